// The size photos are read at, shared by the photo and the reference photo of an embedding model.

/** Photos are scaled down to this longer side: the model sees 299 px anyway, and maps stay quick to draw. */
export const MAX_SIDE = 1600;
