/*
 * The "direct C loop" peer of the bridge benchmark: dlopens a libwrapper.so and calls wrapperExec +
 * wrapperExecFree in a tight loop on one thread, with the lists the bridge builds for the same
 * request (params: sid; one "text" item with the gateway's desc), built once. No copy of the answer,
 * no threads: the floor a C caller pays for the plugin itself.
 *
 * Usage: direct-loop LIBWRAPPER CALLS ROUNDS TEXT
 * Prints one JSON line: {"calls": CALLS, "nsPerCall": [one per round]}. Built by bench/native.ts.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aiges_wrapper.h"

static void* need(void* lib, const char* name) {
  void* symbol = dlsym(lib, name);
  if (!symbol) {
    fprintf(stderr, "direct-loop: no %s: %s\n", name, dlerror());
    exit(2);
  }
  return symbol;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: direct-loop LIBWRAPPER CALLS ROUNDS TEXT\n");
    return 2;
  }
  long calls = atol(argv[2]);
  int rounds = atoi(argv[3]);
  char* text = argv[4];

  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "direct-loop: %s\n", dlerror());
    return 2;
  }
  int (*init)(pConfig) = (int (*)(pConfig))need(lib, "wrapperInit");
  int (*fini)(void) = (int (*)(void))need(lib, "wrapperFini");
  int (*exec)(const char*, pParamList, pDataList, pDataList*, unsigned int*, int) =
      (int (*)(const char*, pParamList, pDataList, pDataList*, unsigned int*, int))need(lib, "wrapperExec");
  int (*execFree)(const char*, pDataList*) = (int (*)(const char*, pDataList*))need(lib, "wrapperExecFree");

  char asyncKey[] = "asyncMode", asyncValue[] = "false";
  ParamList config = {asyncKey, asyncValue, (unsigned int)strlen(asyncValue), NULL};
  if (init(&config) != 0) {
    fprintf(stderr, "direct-loop: wrapperInit failed\n");
    return 1;
  }

  /* What the bridge passes for a gateway request: params {sid}, input text with its desc. */
  char sidKey[] = "sid", sid[] = "bench-direct-loop";
  ParamList params = {sidKey, sid, (unsigned int)strlen(sid), NULL};
  char seqKey[] = "seq", seq[] = "0", statusKey[] = "status", status[] = "3", encodingKey[] = "encoding", encoding[] = "utf8";
  ParamList descEncoding = {encodingKey, encoding, (unsigned int)strlen(encoding), NULL};
  ParamList descSeq = {seqKey, seq, (unsigned int)strlen(seq), &descEncoding};
  ParamList desc = {statusKey, status, (unsigned int)strlen(status), &descSeq};
  char textKey[] = "text";
  DataList input = {textKey, text, (unsigned int)strlen(text), DataText, DataOnce, &desc, NULL};

  printf("{\"calls\": %ld, \"nsPerCall\": [", calls);
  for (int round = 0; round < rounds; round++) {
    double start = now();
    for (long i = 0; i < calls; i++) {
      pDataList response = NULL;
      int ret = exec(sid, &params, &input, &response, NULL, 0);
      if (ret != 0) {
        fprintf(stderr, "direct-loop: wrapperExec returned %d\n", ret);
        return 1;
      }
      execFree(sid, &response);
    }
    printf("%s%.1f", round ? ", " : "", (now() - start) / (double)calls);
  }
  printf("]}\n");
  fini();
  return 0;
}
