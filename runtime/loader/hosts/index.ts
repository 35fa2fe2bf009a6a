import type { CapabilitySpec } from '../../capability/types.js';
import type { WrapperHost } from '../host.js';
import { JsHost } from './js.js';
import { NativeHost } from './native.js';
import { PythonHost } from './python.js';

/** Picks the wrapper host for a capability's code. */
export function createHost(spec: CapabilitySpec): WrapperHost {
  switch (spec.host) {
    case 'js':
      return new JsHost(spec);
    case 'python':
      return new PythonHost(spec);
    case 'c':
      return new NativeHost(spec);
  }
}
