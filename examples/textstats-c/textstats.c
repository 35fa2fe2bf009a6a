/*
 * textstats: an AIGES-style C capability. For a UTF-8 text it answers JSON with the counts of
 * bytes, characters, words and lines and the most frequent letters:
 *   {"bytes":11,"chars":11,"words":2,"lines":1,"top_letters":[{"letter":"l","count":3},...]}
 * One-shot (wrapperExec, or wrapperExecAsync with asyncMode) and streaming sessions (the text of
 * every frame written so far). Build: make (needs only a C compiler).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aiges_wrapper.h"

enum { ErrNoText = 20101, ErrBadTop = 20102, ErrNoMemory = 20103 };

static int defaultTop = 5;
static wrapperMeterCustom meter;

/* Counts of one text. */
typedef struct {
  unsigned long bytes, chars, words, lines;
  unsigned long letters[26];
} Stats;

static void count(Stats* s, const unsigned char* text, size_t len, int* inWord) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = text[i];
    s->bytes++;
    if ((c & 0xC0) != 0x80) s->chars++; /* not a UTF-8 continuation byte */
    if (c == '\n') s->lines++;
    if (isspace(c)) {
      *inWord = 0;
    } else if (!*inWord) {
      *inWord = 1;
      s->words++;
    }
    if (isalpha(c) && c < 0x80) s->letters[tolower(c) - 'a']++;
  }
}

/* The JSON answer, malloc'ed. `lastByte` tells whether the text ends without a newline. */
static char* render(const Stats* s, int lastByte, int top) {
  unsigned long lines = s->lines + (s->bytes > 0 && lastByte != '\n' ? 1 : 0);
  size_t size = 160 + 40 * (size_t)top;
  char* out = malloc(size);
  if (!out) return NULL;
  int n = snprintf(out, size, "{\"bytes\":%lu,\"chars\":%lu,\"words\":%lu,\"lines\":%lu,\"top_letters\":[", s->bytes,
                   s->chars, s->words, lines);
  unsigned long taken[26] = {0};
  for (int k = 0; k < top; k++) {
    int best = -1;
    for (int i = 0; i < 26; i++) {
      if (!taken[i] && s->letters[i] && (best < 0 || s->letters[i] > s->letters[best])) best = i;
    }
    if (best < 0) break;
    taken[best] = 1;
    n += snprintf(out + n, size - n, "%s{\"letter\":\"%c\",\"count\":%lu}", k ? "," : "", 'a' + best, s->letters[best]);
  }
  snprintf(out + n, size - n, "]}");
  return out;
}

static const char* param(pParamList params, const char* key) {
  for (pParamList p = params; p; p = p->next) {
    if (p->key && strcmp(p->key, key) == 0) return p->value;
  }
  return NULL;
}

static int topOf(pParamList params, int* top) {
  const char* value = param(params, "top");
  if (!value) {
    *top = defaultTop;
    return 0;
  }
  char* end;
  long n = strtol(value, &end, 10);
  if (*end || n < 0 || n > 26) return ErrBadTop;
  *top = (int)n;
  return 0;
}

/* A one-item result list owning its key and data, freed by freeList. */
static pDataList resultList(char* json, DataStatus status) {
  pDataList node = calloc(1, sizeof *node);
  if (!node) return NULL;
  node->key = strdup("stats");
  node->data = json;
  node->len = (unsigned int)strlen(json);
  node->type = DataText;
  node->status = status;
  return node;
}

static void freeList(pDataList list) {
  while (list) {
    pDataList next = list->next;
    free(list->key);
    free(list->data);
    free(list);
    list = next;
  }
}

static int once(pParamList params, pDataList req, pDataList* resp) {
  int top, err = topOf(params, &top);
  if (err) return err;
  pDataList text = NULL;
  for (pDataList d = req; d; d = d->next) {
    if (d->key && strcmp(d->key, "text") == 0) text = d;
  }
  if (!text) return ErrNoText;
  Stats s = {0};
  int inWord = 0;
  count(&s, text->data, text->len, &inWord);
  char* json = render(&s, text->len ? ((unsigned char*)text->data)[text->len - 1] : 0, top);
  if (!json || !(*resp = resultList(json, DataOnce))) {
    free(json);
    return ErrNoMemory;
  }
  return 0;
}

int wrapperSetCtrl(CtrlType type, void* func) {
  if (type != CTMeterCustom) return -1; /* no tracing here */
  meter = (wrapperMeterCustom)func;
  return 0;
}

int wrapperInit(pConfig cfg) {
  const char* top = param(cfg, "top");
  if (top) defaultTop = atoi(top);
  return defaultTop < 0 || defaultTop > 26 ? ErrBadTop : 0;
}

int wrapperFini(void) { return 0; }

const char* wrapperError(int errNum) {
  switch (errNum) {
    case ErrNoText: return "textstats needs an input named 'text'";
    case ErrBadTop: return "top must be an integer from 0 to 26";
    case ErrNoMemory: return "textstats ran out of memory";
    default: return "unknown textstats error";
  }
}

const char* wrapperVersion(void) { return "textstats 1.0.0"; }

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
  (void)psrIds;
  (void)psrCnt;
  int err = once(params, reqData, respData);
  if (!err && meter) meter(usrTag, "textstats_calls", 1);
  return err;
}

int wrapperExecFree(const char* usrTag, pDataList* respData) {
  (void)usrTag;
  freeList(*respData);
  *respData = NULL;
  return 0;
}

/* Asynchronous mode: the work is small, so the answer is sent before returning. */
int wrapperExecAsync(const char* usrTag, pParamList params, pDataList reqData, wrapperCallback callback, int timeout,
                     unsigned int psrIds[], int psrCnt) {
  (void)timeout;
  pDataList resp = NULL;
  int err = wrapperExec(usrTag, params, reqData, &resp, psrIds, psrCnt);
  if (err) return err;
  callback(usrTag, resp, 0);
  freeList(resp);
  return 0;
}

/* A streaming session: counts every frame written; a read answers for the text so far. */
typedef struct {
  pthread_mutex_t lock;
  Stats stats;
  int inWord, lastByte, top, ended;
  pDataList last; /* what the latest read returned, kept until the next read or destroy */
  wrapperCallback cb;
  char* tag;
} Session;

const void* wrapperCreate(const char* usrTag, pParamList params, wrapperCallback cb, unsigned int psrIds[], int psrCnt,
                          int* errNum) {
  (void)psrIds;
  (void)psrCnt;
  Session* s = calloc(1, sizeof *s);
  if (!s) {
    *errNum = ErrNoMemory;
    return NULL;
  }
  *errNum = topOf(params, &s->top);
  if (*errNum) {
    free(s);
    return NULL;
  }
  pthread_mutex_init(&s->lock, NULL);
  s->cb = cb;
  s->tag = strdup(usrTag ? usrTag : "");
  return s;
}

static pDataList snapshot(Session* s) {
  char* json = render(&s->stats, s->lastByte, s->top);
  pDataList list = json ? resultList(json, s->ended ? DataEnd : DataContinue) : NULL;
  if (!list) free(json);
  return list;
}

int wrapperWrite(const void* handle, pDataList reqData) {
  Session* s = (Session*)handle;
  pthread_mutex_lock(&s->lock);
  for (pDataList d = reqData; d; d = d->next) {
    if (!d->key || strcmp(d->key, "text") != 0) continue;
    count(&s->stats, d->data, d->len, &s->inWord);
    if (d->len) s->lastByte = ((unsigned char*)d->data)[d->len - 1];
    if (d->status == DataEnd || d->status == DataOnce) s->ended = 1;
  }
  int err = 0;
  if (s->cb) { /* asynchronous mode: push the running figures */
    pDataList list = snapshot(s);
    if (list) s->cb(s->tag, list, 0);
    else err = ErrNoMemory;
    freeList(list);
  }
  pthread_mutex_unlock(&s->lock);
  return err;
}

int wrapperRead(const void* handle, pDataList* respData) {
  Session* s = (Session*)handle;
  pthread_mutex_lock(&s->lock);
  freeList(s->last);
  s->last = snapshot(s);
  *respData = s->last;
  pthread_mutex_unlock(&s->lock);
  return s->last ? 0 : ErrNoMemory;
}

int wrapperDestroy(const void* handle) {
  Session* s = (Session*)handle;
  freeList(s->last);
  free(s->tag);
  pthread_mutex_destroy(&s->lock);
  free(s);
  return 0;
}

const char* wrapperDebugInfo(const void* handle) {
  (void)handle;
  return "textstats session";
}
