// The page's two lines of words that are not a panel: the model line in the header and the error message.
import { ui } from './dom.js';

export function setModelLine(text: string): void {
  ui.modelLine.textContent = text;
}

export function showMessage(error: unknown): void {
  ui.message.hidden = false;
  ui.message.textContent = error instanceof Error ? error.message : String(error);
}

export function hideMessage(): void {
  ui.message.hidden = true;
  ui.message.textContent = '';
}
