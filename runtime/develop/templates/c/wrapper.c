/*
 * {{name}}: an AIGES-style C capability. It answers its input `text`, upper-cased when the
 * parameter mode is "upper". One-shot only: the session functions answer ErrNoSessions.
 * Build: make (needs only a C compiler); the ABI is in include/aiges_wrapper.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "aiges_wrapper.h"

enum { ErrNoText = 10109, ErrNoMemory = 20001, ErrNoSessions = 20002 };

static const char* param(pParamList params, const char* key) {
  for (pParamList p = params; p; p = p->next) {
    if (p->key && strcmp(p->key, key) == 0) return p->value;
  }
  return NULL;
}

int wrapperSetCtrl(CtrlType type, void* func) {
  (void)type;
  (void)func;
  return 0;
}

int wrapperInit(pConfig cfg) {
  (void)cfg;
  return 0;
}

int wrapperFini(void) { return 0; }

const char* wrapperError(int errNum) {
  switch (errNum) {
    case ErrNoText: return "{{name}} needs an input named 'text'";
    case ErrNoMemory: return "{{name}} ran out of memory";
    case ErrNoSessions: return "{{name}} does not stream";
    default: return "unknown {{name}} error";
  }
}

const char* wrapperVersion(void) { return "{{name}} 0.1.0"; }

int wrapperLoadRes(pDataList perData, unsigned int resId) {
  (void)perData;
  (void)resId;
  return 0;
}

int wrapperUnloadRes(unsigned int resId) {
  (void)resId;
  return 0;
}

int wrapperExec(const char* usrTag, pParamList params, pDataList reqData, pDataList* respData, unsigned int psrIds[],
                int psrCnt) {
  (void)usrTag;
  (void)psrIds;
  (void)psrCnt;
  pDataList text = NULL;
  for (pDataList d = reqData; d; d = d->next) {
    if (d->key && strcmp(d->key, "text") == 0) text = d;
  }
  if (!text) return ErrNoText;
  const char* mode = param(params, "mode");
  int upper = mode && strcmp(mode, "upper") == 0;

  pDataList out = calloc(1, sizeof *out);
  char* data = malloc(text->len + 1);
  char* key = strdup("result");
  if (!out || !data || !key) {
    free(out);
    free(data);
    free(key);
    return ErrNoMemory;
  }
  for (unsigned int i = 0; i < text->len; i++) {
    unsigned char c = ((unsigned char*)text->data)[i];
    data[i] = (char)(upper && c < 0x80 ? toupper(c) : c);
  }
  data[text->len] = 0;
  out->key = key;
  out->data = data;
  out->len = text->len;
  out->type = DataText;
  out->status = DataOnce;
  *respData = out;
  return 0;
}

int wrapperExecFree(const char* usrTag, pDataList* respData) {
  (void)usrTag;
  for (pDataList d = *respData; d;) {
    pDataList next = d->next;
    free(d->key);
    free(d->data);
    free(d);
    d = next;
  }
  *respData = NULL;
  return 0;
}

int wrapperExecAsync(const char* usrTag, pParamList params, pDataList reqData, wrapperCallback callback, int timeout,
                     unsigned int psrIds[], int psrCnt) {
  (void)timeout;
  pDataList resp = NULL;
  int err = wrapperExec(usrTag, params, reqData, &resp, psrIds, psrCnt);
  if (err) return err;
  callback(usrTag, resp, 0);
  wrapperExecFree(usrTag, &resp);
  return 0;
}

const void* wrapperCreate(const char* usrTag, pParamList params, wrapperCallback cb, unsigned int psrIds[], int psrCnt,
                          int* errNum) {
  (void)usrTag;
  (void)params;
  (void)cb;
  (void)psrIds;
  (void)psrCnt;
  *errNum = ErrNoSessions;
  return NULL;
}

int wrapperWrite(const void* handle, pDataList reqData) {
  (void)handle;
  (void)reqData;
  return ErrNoSessions;
}

int wrapperRead(const void* handle, pDataList* respData) {
  (void)handle;
  *respData = NULL;
  return ErrNoSessions;
}

int wrapperDestroy(const void* handle) {
  (void)handle;
  return 0;
}

const char* wrapperDebugInfo(const void* handle) {
  (void)handle;
  return "";
}
