{
  "variables": {
    "has_xrt%": "<!(test -f /usr/include/xrt/xrt/xrt_device.h && echo 1 || echo 0)"
  },
  "targets": [
    {
      "target_name": "inaccel",
      "sources": [
        "<!@(ls -1 addon/*.cc addon/runtime/*.cc addon/runtime/opencl/*.cc addon/arbiter/*.cc addon/engine/*.cc addon/memory/*.cc)"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "addon",
        "/usr/include"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "CL_TARGET_OPENCL_VERSION=120",
        "CL_USE_DEPRECATED_OPENCL_1_2_APIS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "libraries": ["-ldl", "-lpthread"]
    }
  ],
  "conditions": [
    ["has_xrt==1", {
      "targets": [
        {
          "target_name": "inaccel_xrt",
          "type": "shared_library",
          "product_prefix": "lib",
          "sources": ["<!@(ls -1 addon/xrt/*.cc)"],
          "include_dirs": ["addon", "/usr/include/xrt"],
          "cflags!": ["-fno-exceptions"],
          "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
          "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fPIC"],
          "libraries": ["-lxrt_coreutil"]
        }
      ]
    }]
  ]
}
