import type { CapabilitySpec } from '../../capability/types.js';
import type { WrapperHost } from '../host.js';
import { JsHost } from './js.js';

/** Picks the wrapper host for a capability's code. */
export function createHost(spec: CapabilitySpec): WrapperHost {
  switch (spec.host) {
    case 'js':
      return new JsHost(spec);
    case 'python':
    case 'c':
      throw new Error(`${spec.entry}: the ${spec.host} host is not available in this build`);
  }
}
