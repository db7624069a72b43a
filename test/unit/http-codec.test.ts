import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/core/model.js';
import { batchImageToRgb } from '../../src/core/pixels.js';
import { toModelLayout } from '../../src/core/preprocess.js';
import { TransientReplyError } from '../../src/engines/http/client.js';
import { encodeInputs, parseScores, ScoresError } from '../../src/engines/http/codec.js';
import { displayUrl, parseRetryAfter } from '../../src/engines/http/index.js';
import { HTTP_MEAN, HTTP_STD } from '../../src/models/http.js';
import { expectInvalid } from '../helpers/errors.js';

const spec = (over: Partial<ModelSpec> = {}): ModelSpec => ({
  inputName: 'image',
  layout: 'NHWC',
  width: 2,
  height: 1,
  channelOrder: 'RGB',
  mean: HTTP_MEAN,
  std: HTTP_STD,
  resize: 'squash',
  cropFraction: 1,
  labels: [],
  outputs: 'probabilities',
  task: 'classify',
  ...over,
});

describe('batchImageToRgb turns the normalised tensor back into 8-bit RGB', () => {
  it('with the HTTP default normalisation, v = pixel − 128: 0 is grey 128, and values round and clamp', () => {
    // Two pixels, NHWC: (−128, 0, 127) and (0.4, 0.6, 500) → (0, 128, 255) and (128, 129, 255).
    const batch = { data: Float32Array.of(-128, 0, 127, 0.4, 0.6, 500), dims: [1, 1, 2, 3] };
    expect([...batchImageToRgb(batch, 0, spec()).data]).toEqual([0, 128, 255, 128, 129, 255]);
  });

  it('reads NCHW planes and undoes BGR order, so the PNG is always RGB', () => {
    // NCHW planes B = (10, 20), G = (30, 40), R = (50, 60) in pixel − 128 units.
    const batch = { data: Float32Array.of(10, 20, 30, 40, 50, 60), dims: [1, 3, 1, 2] };
    const px = batchImageToRgb(batch, 0, spec({ layout: 'NCHW', channelOrder: 'BGR' }));
    expect(px.width).toBe(2);
    expect(px.height).toBe(1);
    expect([...px.data]).toEqual([178, 158, 138, 188, 168, 148]);
  });

  it('uses the spec’s mean and std (ImageNet-style) and picks image `index` of a batch', () => {
    const s = spec({ width: 1, mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1] });
    const batch = { data: Float32Array.of(0, 0, 0, 1, -1, 0.2), dims: [2, 1, 1, 3] };
    // 255 · (v · std + mean): (1·0.25 + 0.5, −1·0.5 + 0.5, 0.2 + 0.5) · 255 = (191.25, 0, 178.5) → (191, 0, 179).
    expect([...batchImageToRgb(batch, 1, s).data]).toEqual([191, 0, 179]);
  });

  it('gives back every byte 0..255 exactly under the HTTP default normalisation, in both layouts', () => {
    // All 256 values across a 256 × 1 image, each channel shifted so every channel sees every value.
    const planes = new Float32Array(3 * 256);
    for (let c = 0; c < 3; c++) for (let x = 0; x < 256; x++) planes[c * 256 + x] = (x + 85 * c) % 256;
    const expected = Array.from({ length: 256 * 3 }, (_, i) => planes[(i % 3) * 256 + Math.floor(i / 3)]);
    for (const layout of ['NHWC', 'NCHW'] as const) {
      const s = spec({ layout, width: 256 });
      const input = toModelLayout(planes, s);
      // The tensor is pixel − 128 exactly, so nothing but the inverse stands between it and the bytes.
      expect(input.data.every((v) => Number.isInteger(v))).toBe(true);
      expect([...batchImageToRgb(input, 0, s).data]).toEqual(expected);
    }
  });

  it('rounds half-way values up as on integers, with no float error (v = i − 128.5 → byte i)', () => {
    // round((v · std + mean) · 255) lands just below .5 for 49 of these 256 values; v · 255std + 255mean
    // is exactly i − 0.5, which Math.round takes up to i (and −0.5 to 0).
    const v = new Float32Array(256 * 3);
    for (let i = 0; i < 256; i++) v.fill(i - 128.5, 3 * i, 3 * i + 3);
    const px = batchImageToRgb({ data: v, dims: [1, 1, 256, 3] }, 0, spec({ width: 256 }));
    expect([...px.data]).toEqual(Array.from({ length: 256 * 3 }, (_, j) => Math.floor(j / 3)));
  });

  it('names a batch that is not 3-channel images and an index outside the batch', () => {
    const batch = { data: new Float32Array(12), dims: [2, 1, 2, 3] };
    expectInvalid(
      () => batchImageToRgb(batch, 0, spec({ layout: 'NCHW' })),
      'Argument \'batch\' must be images with 3 channels in NCHW layout; got "dims [2, 1, 2, 3]".',
    );
    expectInvalid(
      () => batchImageToRgb(batch, 2, spec()),
      "Argument 'index' must be an image of the batch, 0..1; got 2.",
    );
  });

  it('encodes PNGs whose decoded pixels are exactly those, and float32 items in the model layout', async () => {
    const batch = { data: Float32Array.of(-128, 0, 127, 1, 2, 3), dims: [1, 1, 2, 3] };
    const [png] = await encodeInputs(batch, 0, 1, spec(), 'png');
    const decoded = await sharp(Buffer.from((png as { png: string }).png, 'base64'))
      .raw()
      .toBuffer();
    expect([...decoded]).toEqual([0, 128, 255, 129, 130, 131]);
    const [f] = await encodeInputs(batch, 0, 1, spec({ layout: 'NCHW' }), 'float32');
    expect(f).toEqual({ format: 'float32', shape: [3, 1, 2], data: [-128, 0, 127, 1, 2, 3] });
  });
});

describe('parseScores checks the answer against the contract', () => {
  it('accepts one finite vector per input', () => {
    expect(parseScores('{"scores": [[0.25, 0.75], [1, 0]]}', 2)).toEqual([
      [0.25, 0.75],
      [1, 0],
    ]);
  });

  it.each([
    ['{"result": []}', /no 'scores' array/],
    ['{"scores": [[1, 2]]}', /1 score vectors for 2 inputs; expected one per input/],
    ['{"scores": [[1, 2], [3]]}', /different lengths \(scores\[0\] has 2, scores\[1\] has 1\)/],
    ['{"scores": [[1, 2], [3, 1e999]]}', /scores\[1\]\[1\] is Infinity; expected finite numbers/],
    ['{"scores": [[1, 2], [null, 3]]}', /scores\[1\]\[0\] is null; expected finite numbers/],
    ['{"scores": [[1, 2], []]}', /scores\[1\] is not a non-empty array/],
    // Python's json.dumps writes non-finite floats as bare words: not JSON, but not a cut reply either.
    ['{"scores": [[NaN, 0.5], [1, 0]]}', /the answer holds NaN, which is not a number in JSON/],
    ['{"scores":[[1,2],[3,-Infinity]]}', /the answer holds -Infinity, which is not a number in JSON/],
    ['{"scores": [[1, 2], [3,Infinity ]]}', /the answer holds Infinity, which/],
  ])('%s is refused for good', (text, message) => {
    let caught: unknown;
    try {
      parseScores(text, 2);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScoresError);
    expect((caught as Error).message).toMatch(message);
  });

  it('a body that is not JSON is transient (a cut reply), quoting its start', () => {
    expect(() => parseScores('<html>Bad gateway</html>', 1)).toThrow(TransientReplyError);
    expect(() => parseScores('{"scores": [[1', 1)).toThrow(/not JSON \(it starts "\{\\"scores\\": \[\[1"\)/);
    // A cut reply that ends in the middle of a word is still transient.
    expect(() => parseScores('{"scores": [[1, NaN', 1)).toThrow(TransientReplyError);
    expect(() => parseScores('{"label": "NaN Infinity"', 1)).toThrow(TransientReplyError);
  });
});

describe('Retry-After and URLs', () => {
  it('reads delay-seconds (decimals too) and HTTP dates; ignores garbage', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('0.25', now)).toBe(250);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    // Not delay-seconds, and not dates either (V8's Date.parse reads each as a day in 2001).
    for (const garbled of ['-1', '+5', '1.', '1,2']) expect(parseRetryAfter(garbled, now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('shows URLs without passwords or query values', () => {
    expect(displayUrl('https://user:pw@api.example.com:8443/v1/predict?key=abc&x=1')).toBe(
      'https://api.example.com:8443/v1/predict?key=…&x=…',
    );
    expect(displayUrl('http://127.0.0.1:9/predict')).toBe('http://127.0.0.1:9/predict');
  });
});
