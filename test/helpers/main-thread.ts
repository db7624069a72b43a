// Times in the web app's page, by the page's own clock: when a photo was given, when the Grad-CAM legend appeared,
// and the main thread's long tasks (> 50 ms, Chromium's Long Tasks API) in between, so a test can tell work that
// stayed in the worker from work that froze the page.
import type { Page } from 'playwright-core';

interface Watch {
  longTasks: { start: number; duration: number }[];
  gradCam: number[];
}
type Watched = Window & { sightlineWatch?: Watch };

export interface MainThreadReport {
  /** From the photo given to the page to the Grad-CAM legend drawn, seconds. */
  seconds: number;
  /** The main thread's long tasks in that span: how many, the longest and their blocking time (each − 50 ms). */
  longTasks: number;
  longestTaskMs: number;
  blockingMs: number;
}

/** Starts recording long tasks and the moments the legend names a Grad-CAM map (once per page). */
export async function watchMainThread(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as Watched;
    if (w.sightlineWatch) return;
    const watch: Watch = { longTasks: [], gradCam: [] };
    w.sightlineWatch = watch;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) watch.longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask' });
    const legend = document.getElementById('legend-text')!;
    new MutationObserver(() => {
      if (legend.textContent?.startsWith('Grad-CAM')) watch.gradCam.push(performance.now());
    }).observe(legend, { childList: true, characterData: true, subtree: true });
  });
}

/** The page's clock now: taken just before a photo is given. */
export function pageNow(page: Page): Promise<number> {
  return page.evaluate(() => performance.now());
}

/** Drops a photo on the drop zone as a file dragged from the desktop would; returns the page's time of the drop. */
export function dropPhoto(page: Page, bytes: Buffer, name: string, type: string): Promise<number> {
  return page.evaluate(
    ({ base64, name, type }) => {
      const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], name, { type }));
      const zone = document.getElementById('drop')!;
      const t0 = performance.now();
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      return t0;
    },
    { base64: bytes.toString('base64'), name, type },
  );
}

/** Waits for the first Grad-CAM legend after `since` (page time) and reports the span and its long tasks. */
export async function untilGradCam(page: Page, since: number, timeout: number): Promise<MainThreadReport> {
  await page.waitForFunction((t0) => (window as Watched).sightlineWatch!.gradCam.some((t) => t > t0), since, {
    timeout,
  });
  return page.evaluate(async (t0) => {
    // A long task is reported after it ends: the one that drew the map is still running when the legend changes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const watch = (window as Watched).sightlineWatch!;
    const end = watch.gradCam.find((t) => t > t0)!;
    const tasks = watch.longTasks.filter((l) => l.start + l.duration > t0 && l.start < end);
    return {
      seconds: (end - t0) / 1000,
      longTasks: tasks.length,
      longestTaskMs: Math.max(0, ...tasks.map((l) => l.duration)),
      blockingMs: tasks.reduce((sum, l) => sum + l.duration - 50, 0),
    };
  }, since);
}
