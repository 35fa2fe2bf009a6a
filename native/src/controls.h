// The metering and trace callbacks handed to plugins through wrapperSetCtrl.
#pragma once

#include <map>
#include <string>

namespace asf {

// CTMeterCustom: adds `count` to the process-wide total of `meterKey`.
int OnMeter(const void* usrTag, const char* meterKey, int count);
// CTTraceLog: one line on stderr, which the loader's supervisor shows with its own output.
int OnTrace(const char* usrTag, const char* key, const char* value);
// Totals so far, by meter key.
std::map<std::string, long long> MeterTotals();

}  // namespace asf
