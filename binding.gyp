{
  "variables": {
    # ATOMIK_SANITIZE=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer.
    "sanitize%": "<!(node -p \"process.env.ATOMIK_SANITIZE || 0\")"
  },
  "targets": [
    {
      "target_name": "atomik",
      "sources": ["native/atomik.c", "native/batch.c", "native/binding.cc", "native/stream.c", "native/stream_binding.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags": ["-O3", "-Wall", "-Wextra"],
      "cflags_c": ["-std=c99", "-pedantic", "-Wshadow", "-Wconversion", "-Wno-sign-conversion"],
      "cflags_cc": ["-std=c++17"],
      "cflags!": ["-O2"],
      "xcode_settings": {
        "GCC_OPTIMIZATION_LEVEL": "3",
        "WARNING_CFLAGS": ["-Wall", "-Wextra", "-Wshadow"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "Optimization": 2 } },
      "conditions": [
        ["sanitize==1", {
          "cflags": ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g"],
          "cflags!": ["-O3"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    }
  ]
}
