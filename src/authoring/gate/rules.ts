/** The static safety gate's rules: an id, what it refuses and why (AUTH-7). */
export interface GateRule {
  readonly id: string;
  readonly description: string;
}

/** Every rule the gate applies, by id. */
export const GATE_RULES: Readonly<Record<string, GateRule>> = {
  'import-not-sdk': { id: 'import-not-sdk', description: 'imports anything but tradeforge/sdk' },
  require: { id: 'require', description: 'uses require (modules must come from the SDK import)' },
  'dynamic-import': { id: 'dynamic-import', description: 'uses a dynamic import() expression' },
  'import-meta': { id: 'import-meta', description: 'reads import.meta' },
  eval: { id: 'eval', description: 'uses eval' },
  'function-constructor': { id: 'function-constructor', description: 'builds code from strings (Function)' },
  'constructor-access': { id: 'constructor-access', description: 'reads .constructor (the way out to Function)' },
  'prototype-mutation': {
    id: 'prototype-mutation',
    description: 'touches prototypes or property descriptors (__proto__, prototype, defineProperty, ...)',
  },
  process: { id: 'process', description: 'reads process' },
  'global-access': { id: 'global-access', description: 'reads the global object (globalThis, global, window, self)' },
  'proxy-reflect': { id: 'proxy-reflect', description: 'uses Proxy or Reflect' },
  timer: { id: 'timer', description: 'uses a timer or the task queue (setTimeout, setInterval, queueMicrotask...)' },
  atomics: { id: 'atomics', description: 'uses Atomics or SharedArrayBuffer (Atomics.wait blocks the engine)' },
  'host-io': {
    id: 'host-io',
    description: 'reaches for file, network, process or worker access (fetch, WebSocket, Worker, Buffer, ...)',
  },
  with: { id: 'with', description: 'uses a with statement' },
  'string-key': {
    id: 'string-key',
    description: 'indexes an object with a computed string or a string naming a forbidden member',
  },
  'sdk-mutation': { id: 'sdk-mutation', description: 'assigns to or defines accessors on an SDK value' },
  'no-strategy': {
    id: 'no-strategy',
    description: 'does not export a strategy: the file needs `export default defineStrategy({...})`',
  },
  syntax: { id: 'syntax', description: 'does not parse' },
};

/** Identifiers that may not be referenced at all, with the rule each breaks. */
export const FORBIDDEN_IDENTIFIERS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    require: 'require',
    eval: 'eval',
    Function: 'function-constructor',
    AsyncFunction: 'function-constructor',
    GeneratorFunction: 'function-constructor',
    process: 'process',
    globalThis: 'global-access',
    global: 'global-access',
    window: 'global-access',
    self: 'global-access',
    frames: 'global-access',
    Proxy: 'proxy-reflect',
    Reflect: 'proxy-reflect',
    setTimeout: 'timer',
    setInterval: 'timer',
    setImmediate: 'timer',
    clearTimeout: 'timer',
    clearInterval: 'timer',
    clearImmediate: 'timer',
    queueMicrotask: 'timer',
    Atomics: 'atomics',
    SharedArrayBuffer: 'atomics',
    fetch: 'host-io',
    XMLHttpRequest: 'host-io',
    WebSocket: 'host-io',
    Worker: 'host-io',
    Buffer: 'host-io',
    WebAssembly: 'host-io',
    module: 'host-io',
    exports: 'host-io',
    __dirname: 'host-io',
    __filename: 'host-io',
    Deno: 'host-io',
    Bun: 'host-io',
    FinalizationRegistry: 'host-io',
    WeakRef: 'host-io',
  }),
);

/** Member names that may not be read or written, with the rule each breaks (a Map: `__proto__` is a key here). */
export const FORBIDDEN_MEMBERS: ReadonlyMap<string, string> = new Map([
  ['__proto__', 'prototype-mutation'],
  ...Object.entries({
    constructor: 'constructor-access',
    prototype: 'prototype-mutation',
    setPrototypeOf: 'prototype-mutation',
    getPrototypeOf: 'prototype-mutation',
    defineProperty: 'prototype-mutation',
    defineProperties: 'prototype-mutation',
    getOwnPropertyDescriptor: 'prototype-mutation',
    getOwnPropertyDescriptors: 'prototype-mutation',
    __defineGetter__: 'prototype-mutation',
    __defineSetter__: 'prototype-mutation',
    __lookupGetter__: 'prototype-mutation',
    __lookupSetter__: 'prototype-mutation',
    caller: 'prototype-mutation',
    callee: 'prototype-mutation',
    fromCharCode: 'string-key',
    fromCodePoint: 'string-key',
    binding: 'process',
    mainModule: 'process',
  }),
]);
