import { BerthError } from '../../src/errors.js';

/** The BerthError `work` throws; fails the test when it succeeds or throws anything else. */
export async function refusal(work: () => Promise<unknown>): Promise<BerthError> {
  try {
    await work();
  } catch (err) {
    if (err instanceof BerthError) return err;
    throw err;
  }
  throw new Error('it was not refused');
}
