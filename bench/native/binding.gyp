{
  # Bench-only baselines: built by the benchmarks on first use, never shipped.
  "targets": [
    {
      "target_name": "baselines",
      "sources": ["baselines.c", "binding.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags": ["-O3", "-Wall", "-Wextra"],
      "cflags_c": ["-std=c99"],
      "cflags_cc": ["-std=c++17"],
      "cflags!": ["-O2"]
    }
  ]
}
