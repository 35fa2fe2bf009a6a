/** TypeScript shapes of the AIGES envelope (proto/xsf.proto) and payload (proto/loader.proto). */

export type StringMap = Record<string, string>;

export interface Session {
  t?: string;
  h?: string;
  sess?: StringMap;
}

export interface DataMeta {
  data: Uint8Array;
  desc?: StringMap;
}

export interface ReqData {
  op: string;
  s?: Session;
  param?: StringMap;
  data?: DataMeta[];
}

export interface ResData {
  code?: number;
  error_info?: string;
  s?: Session;
  param?: StringMap;
  data?: DataMeta[];
}

/** Our pipe's batches (proto/pipe.proto). */
export interface ReqBatch {
  calls?: ReqData[];
}

export interface ResBatch {
  answers?: ResData[];
}

export const DataType = { TEXT: 0, AUDIO: 1, IMAGE: 2, VIDEO: 3, OTHER: 4 } as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

/** JSON field name that carries the bytes of each data type in the client protocol. */
export const dataFieldName = ['text', 'audio', 'image', 'video', 'other'] as const;

/** The data types a client may send and a capability may declare (all but OTHER). */
export const clientDataFields = ['text', 'audio', 'image', 'video'] as const;
export type DataTypeName = (typeof dataFieldName)[number];

export function dataTypeOf(name: string): DataType {
  const index = dataFieldName.indexOf(name as DataTypeName);
  return (index < 0 ? DataType.OTHER : index) as DataType;
}

export const SessState = { STREAM: 0, ONCE: 1 } as const;
export type SessState = (typeof SessState)[keyof typeof SessState];

export const RespStatus = { BEGIN: 0, CONTINUE: 1, END: 2, ONCE: 3 } as const;
export type RespStatus = (typeof RespStatus)[keyof typeof RespStatus];

export interface MetaDesc {
  name: string;
  dataType?: DataType;
  attribute?: StringMap;
}

export interface Payload {
  meta?: MetaDesc;
  data?: Uint8Array;
}

export interface LoaderInput {
  serviceId?: string;
  serviceName?: string;
  state?: SessState;
  headers?: StringMap;
  params?: StringMap;
  expect?: MetaDesc[];
  pl?: Payload[];
  sync_id?: number;
}

export interface LoaderOutput {
  serviceId?: string;
  code?: number;
  err?: string;
  status?: RespStatus;
  pl?: Payload[];
}

/** ToolBox cmdserver messages; headers are text on the wire (JSON for AIGES's cmdserver). */
export interface ToolRequest {
  query: string;
  headers?: string;
  body?: string;
}

export interface ToolResponse {
  headers?: string;
  body?: string;
}
