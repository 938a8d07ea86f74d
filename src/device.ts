/** An OpenCL platform or FPGA shell a bitstream can target. */
export interface Platform {
  /** e.g. "The pocl project", "NVIDIA Corporation", "xilinx". */
  vendor: string;
  /** e.g. "Portable Computing Language", "xilinx_u250_xdma_201830_2". */
  name: string;
  version: string;
}

/** One device of the host, as {@link devices} lists it. */
export interface Device {
  /** Index in this process's device list (what `INACCEL_DEVICES` selects). */
  id: number;
  /** Stable key of the device on this host, shared by every process. */
  key: string;
  /** Runtime backend that drives it: "opencl" or "xrt". */
  backend: string;
  platform: Platform;
  vendor: string;
  name: string;
  /** "cpu", "gpu", "accelerator", "fpga" or "other". */
  type: string;
  version: string;
  /** Global memory in bytes. */
  memory: number;
  /** True when the device can build OpenCL C source bitstreams. */
  compiler: boolean;
}
