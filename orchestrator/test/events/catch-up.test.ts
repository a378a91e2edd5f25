// The stream's catch-up: an event still being stored when history is read is
// sent from the buffer, in seq order, once.
import t from 'tap';
import { catchUp } from '../../src/events/catch-up.js';
import type { BerthEvent } from '../../src/events/event.schema.js';

const ev = (seq: number, step: string): BerthEvent => ({ seq, at: new Date(0).toISOString(), type: 'operation.step', operation: 'op', data: { step } });

t.test('an event stored after a later one is not lost (history has 12, the buffer 11 and 12)', async (t) => {
  const history = [ev(10, 'network'), ev(12, 'db:starting')];
  const buffered = [ev(11, 'volumes'), ev(12, 'db:starting'), ev(13, 'db:healthy')];
  t.same(catchUp(history, buffered).map((e) => e.data?.step), ['network', 'volumes', 'db:starting', 'db:healthy']);
});

t.test('each event once, in seq order, whichever side it came from', async (t) => {
  const history = [ev(3, 'c'), ev(1, 'a')];
  const buffered = [ev(2, 'b'), ev(1, 'a'), ev(4, 'd')];
  t.same(catchUp(history, buffered).map((e) => e.seq), [1, 2, 3, 4]);
  t.same(catchUp([], []), []);
});
