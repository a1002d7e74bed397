# One N-API addon, from every library of native/sources.json (the one source list, which
# native/CMakeLists.txt reads too). Optional system libraries are decided by scripts/features.mjs (pkg-config):
# libdpdk -> HAVE_DPDK, rocksdb -> HAVE_ROCKSDB. Without them the addon still builds.
# -O3 with link-time optimisation: the simulator's event loop calls the policies across source files;
# measured on M/M/16, 5-10 % more events/s than -O2 (docs/native.md), with identical results.
{
  "targets": [
    {
      "target_name": "pallas",
      "sources": ["<!@(node scripts/sources.mjs)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "<!@(node scripts/features.mjs defines)"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y"],
      "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter", "<!@(node scripts/features.mjs cflags)"],
      "cflags_cc": ["-std=c++20", "-Wno-volatile", "-fexceptions", "-fvisibility=hidden", "-O3", "-flto=auto"],
      "ldflags": ["-O3", "-flto=auto"],
      "libraries": ["<!@(node scripts/features.mjs libs)"]
    }
  ]
}
