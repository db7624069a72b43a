// Every element the page's code touches, looked up once by id. A page that lacks one, or has it as another
// kind of element, stops here with the list of what is wrong rather than later at the first click.

/** Each handle: its id in index.html and the kind of element the code needs there. */
const ELEMENTS = {
  modelLine: ['model-line', HTMLElement],
  backend: ['backend', HTMLElement],
  threadsNote: ['threads-note', HTMLElement],
  drop: ['drop', HTMLLabelElement],
  photoInput: ['photo-input', HTMLInputElement],
  message: ['message', HTMLElement],
  predictionsBox: ['predictions-box', HTMLElement],
  predictionsTitle: ['predictions-title', HTMLElement],
  predictionsNote: ['predictions-note', HTMLElement],
  predictions: ['predictions', HTMLOListElement],
  mask: ['mask', HTMLCanvasElement],
  referenceField: ['reference-field', HTMLElement],
  referenceInput: ['reference-input', HTMLInputElement],
  mapSection: ['map-section', HTMLElement],
  method: ['method', HTMLSelectElement],
  methodNote: ['method-note', HTMLElement],
  colormap: ['colormap', HTMLSelectElement],
  mode: ['mode', HTMLSelectElement],
  opacity: ['opacity', HTMLInputElement],
  work: ['work', HTMLElement],
  progress: ['progress', HTMLProgressElement],
  workText: ['work-text', HTMLElement],
  cancel: ['cancel', HTMLButtonElement],
  overlay: ['overlay', HTMLCanvasElement],
  boxes: ['boxes', HTMLCanvasElement],
  legend: ['legend', HTMLCanvasElement],
  legendText: ['legend-text', HTMLElement],
  mapNote: ['map-note', HTMLElement],
  regionSection: ['region-section', HTMLElement],
  clearBoxes: ['clear-boxes', HTMLButtonElement],
  verdict: ['verdict', HTMLElement],
  verdictNumbers: ['verdict-numbers', HTMLElement],
  compareSection: ['compare-section', HTMLElement],
  compareChoices: ['compare-choices', HTMLFieldSetElement],
  compare: ['compare', HTMLButtonElement],
  compareGrid: ['compare-grid', HTMLElement],
  agreement: ['agreement', HTMLElement],
  exportSection: ['export-section', HTMLElement],
  savePng: ['save-png', HTMLButtonElement],
  saveNpy: ['save-npy', HTMLButtonElement],
  saveJson: ['save-json', HTMLButtonElement],
  modelInput: ['model-input', HTMLInputElement],
  modelFolderInput: ['model-folder-input', HTMLInputElement],
  labelsInput: ['labels-input', HTMLInputElement],
  modelForm: ['model-form', HTMLFormElement],
  modelQuestion: ['model-question', HTMLElement],
  sizeField: ['size-field', HTMLElement],
  inputWidth: ['input-width', HTMLInputElement],
  inputHeight: ['input-height', HTMLInputElement],
  variantField: ['variant-field', HTMLElement],
  variant: ['variant', HTMLSelectElement],
  layoutField: ['layout-field', HTMLElement],
  layout: ['layout', HTMLSelectElement],
  normalizationField: ['normalization-field', HTMLElement],
  taskField: ['task-field', HTMLElement],
  task: ['task', HTMLSelectElement],
  normalization: ['normalization', HTMLSelectElement],
  detectField: ['detect-field', HTMLElement],
  scoreThreshold: ['score-threshold', HTMLInputElement],
  iouThreshold: ['iou-threshold', HTMLInputElement],
  detectFormat: ['detect-format', HTMLSelectElement],
  boxFormat: ['box-format', HTMLSelectElement],
  defaultModel: ['default-model', HTMLButtonElement],
} as const;

type Elements = typeof ELEMENTS;
type Handles = { readonly [K in keyof Elements]: InstanceType<Elements[K][1]> };

/** Elements found inside the ones above: a CSS selector within which handle, and the kind needed. */
const INNER = {
  /** Kept when the method checkboxes are replaced. */
  compareLegend: ['compareChoices', 'legend', HTMLLegendElement],
  modelSubmit: ['modelForm', 'button[type="submit"]', HTMLButtonElement],
  normalizationFromModel: ['normalization', 'option[value="model"]', HTMLOptionElement],
} as const;

type Inner = typeof INNER;
export type Ui = Handles & { readonly [K in keyof Inner]: InstanceType<Inner[K][2]> };

/** Raised when index.html and the code disagree about the page's elements. */
export class PageError extends Error {
  readonly code = 'INTERNAL';
}

function findAll(root: Document): Ui {
  const found: Record<string, Element> = {};
  const wrong: string[] = [];
  const take = (key: string, what: string, element: Element | null, kind: typeof Element) => {
    const seen = element === null ? 'nothing' : `<${element.tagName.toLowerCase()}>`;
    if (element instanceof kind) found[key] = element;
    else wrong.push(`${what} should be an ${kind.name}, found ${seen}`);
  };
  for (const [key, [id, kind]] of Object.entries(ELEMENTS)) {
    take(key, `#${id}`, root.getElementById(id), kind);
  }
  for (const [key, [parent, selector, kind]] of Object.entries(INNER)) {
    const scope = found[parent];
    take(
      key,
      `#${ELEMENTS[parent as keyof Elements][0]} ${selector}`,
      scope ? scope.querySelector(selector) : null,
      kind,
    );
  }
  if (wrong.length > 0) {
    throw new PageError(
      `The page does not match its code (index.html and web/src disagree): ${wrong.join('; ')}.`,
    );
  }
  return found as unknown as Ui;
}

export const ui: Ui = findAll(document);
