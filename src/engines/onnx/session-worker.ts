// The thread that owns ONNX Runtime's sessions in Node (session-thread.ts starts it). onnxruntime-node's
// `run` is a synchronous native call, so on the main thread it stops decoding, rendering and PNG encoding for
// the whole pass; here it stops only this thread. Requests are served in arrival order, one run at a time.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { SessionReply, SessionRequest, WireTensor } from './session-thread.js';

const sessions = new Map<number, ort.InferenceSession>();
let nextHandle = 1;

parentPort?.on('message', async (request: SessionRequest) => {
  let reply: SessionReply;
  try {
    reply = { id: request.id, ok: await serve(request) };
  } catch (error) {
    reply = { id: request.id, error: (error as Error)?.message ?? String(error) };
  }
  // The outputs are this thread's own, so they move rather than copy where their buffers can.
  const outputs =
    'ok' in reply && request.op === 'run' ? Object.values(reply.ok as Record<string, WireTensor>) : [];
  const buffers = outputs.flatMap((t) => (ArrayBuffer.isView(t.data) ? [t.data.buffer as ArrayBuffer] : []));
  try {
    parentPort?.postMessage(reply, [...new Set(buffers)]);
  } catch {
    parentPort?.postMessage(reply);
  }
});

async function serve(request: SessionRequest): Promise<unknown> {
  switch (request.op) {
    case 'create': {
      const session = await ort.InferenceSession.create(request.bytes, request.options);
      const handle = nextHandle++;
      sessions.set(handle, session);
      return {
        handle,
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        inputMetadata: session.inputMetadata,
        outputMetadata: session.outputMetadata,
      };
    }
    case 'run': {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(request.feeds))
        feeds[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
      const result = await session(request.handle).run(feeds, request.fetches);
      const out: Record<string, WireTensor> = {};
      for (const [name, t] of Object.entries(result))
        out[name] = { type: t.type, dims: [...t.dims], data: t.data as WireTensor['data'] };
      return out;
    }
    case 'release': {
      const held = sessions.get(request.handle);
      sessions.delete(request.handle);
      await held?.release();
      return true;
    }
  }
}

function session(handle: number): ort.InferenceSession {
  const held = sessions.get(handle);
  if (!held) throw new Error(`session ${handle} was released`);
  return held;
}
