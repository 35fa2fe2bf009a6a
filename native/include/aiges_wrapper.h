/*
 * The AIGES C wrapper ABI, as ASF kit's loader calls it.
 *
 * A capability in C or C++ is a shared library named libwrapper.so that exports the 15 functions
 * below with C linkage. Layouts and ownership follow AIGES, so an existing AIGES libwrapper.so loads
 * unchanged. Written by ASF kit from the published facts of the ABI (described in docs/c-abi.md).
 *
 * Ownership:
 *  - every list, string and buffer the loader passes in is valid only during the call;
 *    copy what you keep;
 *  - the list wrapperExec returns stays yours until the loader hands it back to wrapperExecFree,
 *    after copying it;
 *  - a list given to a wrapperCallback may be freed as soon as the callback returns;
 *  - the list wrapperRead returns stays yours until wrapperDestroy.
 * Every int return is 0 on success; any other value is an error code that wrapperError explains.
 */
#ifndef ASF_AIGES_WRAPPER_H
#define ASF_AIGES_WRAPPER_H

#ifdef __cplusplus
extern "C" {
#endif

#define WRAPPER_API __attribute__((visibility("default")))

typedef enum { DataText = 0, DataAudio = 1, DataImage = 2, DataVideo = 3, DataPer = 4 } DataType;

typedef enum { DataBegin = 0, DataContinue = 1, DataEnd = 2, DataOnce = 3 } DataStatus;

typedef enum { CTMeterCustom = 0, CTMetricsLog = 1, CTTraceLog = 2 } CtrlType;

/* A key/value list: request parameters, init config, data descriptions. vlen = strlen(value). */
typedef struct ParamList {
  char* key;
  char* value;
  unsigned int vlen;
  struct ParamList* next;
} *pParamList, *pConfig, *pDescList;
typedef struct ParamList ParamList;

/* One input or output item; items chain through next. */
typedef struct DataList {
  char* key;
  void* data;
  unsigned int len;
  DataType type;
  DataStatus status;
  pDescList desc;
  struct DataList* next;
} *pDataList;
typedef struct DataList DataList;

/* Results of an asynchronous call or session; a list with status DataEnd/DataOnce, or ret != 0, ends a one-shot request. */
typedef int (*wrapperCallback)(const void* usrTag, pDataList respData, int ret);

/* Handed over through wrapperSetCtrl. */
typedef int (*wrapperMeterCustom)(const void* usrTag, const char* meterKey, int count);
typedef int (*wrapperTraceLog)(const char* usrTag, const char* key, const char* value);

WRAPPER_API int wrapperSetCtrl(CtrlType type, void* func);
WRAPPER_API int wrapperInit(pConfig cfg);
WRAPPER_API int wrapperFini(void);
WRAPPER_API const char* wrapperError(int errNum);
WRAPPER_API const char* wrapperVersion(void);

WRAPPER_API int wrapperLoadRes(pDataList perData, unsigned int resId);
WRAPPER_API int wrapperUnloadRes(unsigned int resId);

/* Streaming sessions. cb is NULL in synchronous mode. A NULL handle or *errNum != 0 is a failure. */
WRAPPER_API const void* wrapperCreate(const char* usrTag, pParamList params, wrapperCallback cb, unsigned int psrIds[],
                                      int psrCnt, int* errNum);
WRAPPER_API int wrapperWrite(const void* handle, pDataList reqData);
WRAPPER_API int wrapperRead(const void* handle, pDataList* respData);
WRAPPER_API int wrapperDestroy(const void* handle);

/* One-shot requests. */
WRAPPER_API int wrapperExec(const char* usrTag, pParamList params, pDataList reqData, pDataList* respData,
                            unsigned int psrIds[], int psrCnt);
WRAPPER_API int wrapperExecFree(const char* usrTag, pDataList* respData);
WRAPPER_API int wrapperExecAsync(const char* usrTag, pParamList params, pDataList reqData, wrapperCallback callback,
                                 int timeout, unsigned int psrIds[], int psrCnt);

WRAPPER_API const char* wrapperDebugInfo(const void* handle);

#ifdef __cplusplus
}
#endif

#endif /* ASF_AIGES_WRAPPER_H */
