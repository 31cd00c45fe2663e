// The mocha globals the unit tests use (web-test-runner runs mocha in the page). Declared here
// because @types/mocha is not a dependency; only what the tests call.
declare namespace Mocha {
  type Done = (err?: unknown) => void;
  type Fn = (this: Context, done: Done) => void | Promise<unknown>;
  interface Context {
    timeout(ms: number): void;
    skip(): never;
  }
}
declare function describe(title: string, fn: (this: Mocha.Context) => void): void;
declare function it(title: string, fn: Mocha.Fn): void;
declare function before(fn: Mocha.Fn): void;
declare function after(fn: Mocha.Fn): void;
declare function beforeEach(fn: Mocha.Fn): void;
declare function afterEach(fn: Mocha.Fn): void;
