# One N-API addon. Optional system libraries are decided by scripts/features.mjs (pkg-config):
# libdpdk -> HAVE_DPDK, rocksdb -> HAVE_ROCKSDB. Without them the addon still builds.
{
  "targets": [
    {
      "target_name": "pallas",
      "sources": [
        "native/addon/addon.cpp",
        "native/addon/client_binding.cpp",
        "native/addon/rocksdb_probe.cpp",
        "native/addon/runtime_binding.cpp",
        "native/addon/sim_binding.cpp",
        "native/addon/switch_binding.cpp",
        "native/core/hist/histogram.cpp",
        "native/core/policy/cfcfs.cpp",
        "native/core/policy/darc.cpp",
        "native/core/policy/darc_reserve.cpp",
        "native/core/policy/dfcfs.cpp",
        "native/core/policy/factory.cpp",
        "native/core/policy/policy.cpp",
        "native/core/policy/ps.cpp",
        "native/core/policy/ts.cpp",
        "native/core/switch/dispatcher.cpp",
        "native/core/switch/pipeline.cpp",
        "native/core/wire/wire.cpp",
        "native/io/mem_transport.cpp",
        "native/io/udp_transport.cpp",
        "native/io/dpdk_transport.cpp",
        "native/io/echo.cpp",
        "native/io/pump.cpp",
        "native/client/client.cpp",
        "native/runtime/kv.cpp",
        "native/runtime/runtime.cpp",
        "native/switch/soft_switch.cpp",
        "native/sim/sim.cpp"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "<!@(node scripts/features.mjs defines)"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y"],
      "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter", "<!@(node scripts/features.mjs cflags)"],
      "cflags_cc": ["-std=c++20", "-Wno-volatile", "-fexceptions", "-fvisibility=hidden", "-O2"],
      "libraries": ["<!@(node scripts/features.mjs libs)"]
    }
  ]
}
