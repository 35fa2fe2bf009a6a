import { pathToFileURL } from 'node:url';
import { ErrorCode } from '../../protocol/errors.js';
import { DataType } from '../../protocol/messages.js';
import type { CapabilitySpec } from '../../capability/types.js';
import { WrapperError, type DataItem, type DataStatus, type OnceRequest, type WrapperHost } from '../host.js';

/** A DataListNode as JS wrappers receive it, mirroring the Python SDK. */
export interface JsDataNode {
  key: string;
  data: Buffer;
  len: number;
  status: DataStatus;
  type: DataType;
  attrs: Record<string, string>;
}

export interface JsDataList {
  list: JsDataNode[];
  get(key: string): JsDataNode | undefined;
}

export interface JsResponseItem {
  key: string;
  data: Buffer | Uint8Array | string;
  type?: DataType;
  status?: DataStatus;
}

export interface JsResponse {
  list: JsResponseItem[];
  error_code?: number;
}

/** The functions a JS/TS capability module exports (the Python class style, as plain functions). */
export interface JsWrapperModule {
  wrapperInit?(config: Record<string, string>): number | void | Promise<number | void>;
  wrapperFini?(): number | void | Promise<number | void>;
  wrapperError?(code: number): string;
  wrapperOnceExec(params: Record<string, string>, reqData: JsDataList, usrTag: string): JsResponse | Promise<JsResponse>;
}

/** Hosts a capability written as a JS or TS module inside the loader process. */
export class JsHost implements WrapperHost {
  private module?: JsWrapperModule;

  constructor(private readonly spec: CapabilitySpec) {}

  async start(config: Record<string, string>) {
    const module = await importModule(this.spec.entry);
    if (typeof module.wrapperOnceExec !== 'function') {
      throw new WrapperError(ErrorCode.WrapperInit, `${this.spec.entry} does not export a wrapperOnceExec function`);
    }
    const ret = await guard(ErrorCode.WrapperInit, () => module.wrapperInit?.(config));
    if (ret) throw new WrapperError(ErrorCode.WrapperInit, `wrapperInit returned ${ret}: ${errorText(module, ret)}`);
    this.module = module;
    return {};
  }

  async once(request: OnceRequest): Promise<DataItem[]> {
    const module = this.module;
    if (!module) throw new WrapperError(ErrorCode.WrapperInit, 'wrapper is not initialised');
    const list: JsDataNode[] = request.inputs.map((item) => ({ ...item, len: item.data.length }));
    const reqData: JsDataList = { list, get: (key) => list.find((node) => node.key === key) };
    const response = await guard(ErrorCode.WrapperExec, () => module.wrapperOnceExec(request.params, reqData, request.sid));
    if (response?.error_code) {
      throw new WrapperError(response.error_code, errorText(module, response.error_code));
    }
    if (!Array.isArray(response?.list)) {
      throw new WrapperError(ErrorCode.WrapperExec, 'wrapperOnceExec did not return a response with a list');
    }
    return response.list.map((item) => ({
      key: item.key,
      data: toBuffer(item.data),
      type: item.type ?? DataType.TEXT,
      status: item.status ?? 3,
      attrs: {},
    }));
  }

  async stop() {
    await this.module?.wrapperFini?.();
    this.module = undefined;
  }
}

async function importModule(file: string): Promise<JsWrapperModule> {
  if (file.endsWith('.ts')) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(pathToFileURL(file).href, import.meta.url)) as JsWrapperModule;
  }
  return (await import(pathToFileURL(file).href)) as JsWrapperModule;
}

/** Runs user code; anything it throws becomes a WrapperError with the call's code. */
async function guard<T>(code: number, call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WrapperError) throw err;
    throw new WrapperError(code, err instanceof Error ? err.message : String(err));
  }
}

function errorText(module: JsWrapperModule, code: number): string {
  try {
    return module.wrapperError?.(code) ?? `wrapper error ${code}`;
  } catch {
    return `wrapper error ${code}`;
  }
}

function toBuffer(data: Buffer | Uint8Array | string): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
