import type { CapabilitySchema } from '../capability/types.js';
import type { LoaderHealth } from '../loader/loader.js';
import { aigesHealthQuery, parseAigesHealth } from '../protocol/aiges-health.js';
import type { LoaderConnection } from '../protocol/client.js';

/** What the user says of a loader that cannot say it itself (asf gateway --loader NAME=HOST:PORT --capability DIR). */
export interface GivenService {
  serviceId: string;
  /** Its capability's schema; without one, requests pass unchecked to the loader. */
  schema?: CapabilitySchema;
  /** Its licences (an AIGES loader does not report them). */
  licences?: number;
}

/** Licences assumed for an AIGES loader when its capability does not say (capability.yaml's default). */
const defaultAigesLicences = 4;

/**
 * Asks a loader for its health and schema in the dialect it speaks. Ours answers the ToolBox
 * queries "health" and "schema" with JSON. An AIGES loader fails "health" (it wants JSON) and
 * answers {"cmd":"health"} in plain text, with neither service id, licences nor schema: those
 * come from the user (`given`). The dialect found is kept until a query fails.
 */
export class LoaderQueries {
  private dialect?: 'asf' | 'aiges';

  constructor(
    private readonly client: LoaderConnection,
    private readonly given?: GivenService,
  ) {}

  async health(): Promise<LoaderHealth> {
    try {
      if (this.dialect !== 'aiges') {
        const ours = await this.ours();
        if (ours) return ours;
      }
      return await this.aiges();
    } catch (err) {
      this.dialect = undefined;
      throw err;
    }
  }

  /** The capability's schema; undefined when nobody can tell (an AIGES loader nobody named). */
  async schema(): Promise<CapabilitySchema | undefined> {
    if (this.given?.schema) return { ...this.given.schema, serviceId: this.given.serviceId };
    if (this.dialect === 'aiges') return this.given && openSchema(this.given.serviceId);
    const schema = JSON.parse(await this.client.query({ query: 'schema' })) as CapabilitySchema;
    return this.given ? { ...schema, serviceId: this.given.serviceId } : schema;
  }

  /** Our JSON health, or undefined when the loader does not speak it. */
  private async ours(): Promise<LoaderHealth | undefined> {
    let body: string;
    try {
      body = await this.client.query({ query: 'health' });
    } catch (err) {
      // AIGES refuses a query that is not JSON: "query:health,err:invalid character 'h' …".
      if (/^query:health,err:/.test((err as { details?: string }).details ?? '')) return undefined;
      throw err;
    }
    if (!body.startsWith('{')) return undefined;
    const health = JSON.parse(body) as LoaderHealth;
    this.dialect = 'asf';
    return this.given ? { ...health, serviceId: this.given.serviceId } : health;
  }

  private async aiges(): Promise<LoaderHealth> {
    const body = await this.client.query(aigesHealthQuery);
    const answer = parseAigesHealth(body);
    if (!answer) throw new Error(`loader answers neither our health query nor AIGES's: ${JSON.stringify(body.slice(0, 200))}`);
    this.dialect = 'aiges';
    const licences = this.given?.licences ?? defaultAigesLicences;
    if (!this.given) {
      const error = 'an AIGES loader cannot say which capability it serves: name it, --loader NAME=HOST:PORT (and give its schema with --capability DIR)';
      return { serviceId: '', state: 'failed', error, total: 0, idle: 0 };
    }
    const state = answer.ok ? 'ready' : 'failed';
    return { serviceId: this.given.serviceId, state, error: answer.error, total: licences, idle: licences };
  }
}

/** A schema that declares nothing: the gateway passes any inputs, parameters and outputs on. */
function openSchema(serviceId: string): CapabilitySchema {
  return { serviceId, version: 'v1', inputs: {}, outputs: {}, params: {} };
}
