// The real engine, with one team's app start under the test's hand: it can be
// held (a slow start or wake) or made to fail. Every other call, and every
// other container, goes straight to the engine.
import type { ContainerRuntime } from '../../src/runtime/types.js';

export interface AppStartGate {
  /** While set, the app's start waits for it. */
  gate?: Promise<void>;
  /** While set, the app's start throws it. */
  fail?: Error;
  /** For createPlatform's wrapRuntime option. */
  wrapRuntime: (inner: ContainerRuntime) => ContainerRuntime;
}

export function appStartGate(slug: string): AppStartGate {
  const control: AppStartGate = {
    wrapRuntime: (inner) =>
      new Proxy(inner, {
        get(target, prop, receiver) {
          if (prop !== 'startContainer') return Reflect.get(target, prop, receiver);
          return async (name: string) => {
            if (name.includes(slug) && /[-.]app$/.test(name)) {
              if (control.fail) throw control.fail;
              if (control.gate) await control.gate;
            }
            return target.startContainer(name);
          };
        }
      })
  };
  return control;
}
