/**
 * Fakes only `Date` (it then advances with real time), so a case can play a night on a chosen
 * date while timers, microtasks and `performance` stay real: the services' sockets, SQS polling
 * and the simulators' compressed clock keep working.
 */
export function fakeDateOnly(now: string): void {
  jest.useFakeTimers({
    now: Date.parse(now),
    advanceTimers: true,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}
