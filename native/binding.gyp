# The C wrapper bridge. Built by `npm run build:native` (native/build.mjs), not by npm's install
# hooks: hosts without a C++ toolchain can still `npm ci` and serve JS and Python capabilities.
{
  "targets": [
    {
      "target_name": "asf_native",
      "sources": [
        "src/addon.cc",
        "src/completion.cc",
        "src/controls.cc",
        "src/convert.cc",
        "src/library.cc",
        "src/listeners.cc",
        "src/lists.cc",
        "src/workers.cc",
        "src/wrapper.cc"
      ],
      "include_dirs": ["include"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"],
      "libraries": ["-ldl", "-lpthread"]
    }
  ]
}
