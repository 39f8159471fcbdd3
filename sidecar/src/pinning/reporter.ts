import { pinReport, REPORT_HEARTBEAT_MS } from '../contract/pin-report.ts';
import type { PinBook, PinStore } from './book.ts';

// Publishes the book's observations through the store (the pins ConfigMap on Kubernetes) when they
// change, and at least every REPORT_HEARTBEAT_MS so that lastSeen stays current and the report is
// not taken for a gone pod's. One write at a time; a change during a write asks for one more.

export interface PinReporter {
  /** Called after each read of the lists and on each drift; writes only when there is news. */
  changed(): void;
  /** Resolves when the write in flight (and any it asked for) is done. */
  flush(): Promise<void>;
}

export function startPinReporter(opts: {
  readonly book: PinBook;
  readonly store: PinStore;
  readonly now: () => Date;
  readonly onError: (err: Error) => void;
}): PinReporter | undefined {
  const { book, store, now } = opts;
  if (store.report === undefined) return undefined;
  const report = store.report.bind(store);
  let lastText = '';
  let lastAt = 0;
  let writing: Promise<void> | undefined;
  let again = false;

  // lastSeen moves on every read; it alone is not news.
  const news = () => JSON.stringify(book.list().map(({ lastSeen: _l, ...o }) => o)) + book.mode;

  const write = async (): Promise<void> => {
    do {
      again = false;
      const text = news();
      const at = now();
      if (text === lastText && at.getTime() - lastAt < REPORT_HEARTBEAT_MS) continue;
      try {
        await report(pinReport(book.mode, book.list(), at));
        lastText = text;
        lastAt = at.getTime();
      } catch (err) {
        opts.onError(err as Error);
      }
    } while (again);
  };

  return {
    changed() {
      if (writing !== undefined) {
        again = true;
        return;
      }
      writing = write().finally(() => {
        writing = undefined;
      });
    },
    async flush() {
      await writing;
    },
  };
}
