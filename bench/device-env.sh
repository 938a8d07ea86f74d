# Sourced by bench/device-*.sh on a GPU machine of the device tool: Node.js
# from .device/node.xz on PATH, NVIDIA's OpenCL ICD registered, the carried
# node_modules linked, the program cache in /tmp, and $OUT made.
OUT=${OUT:-/tmp/bench-out}
mkdir -p "$OUT"
python3 -c "import lzma,shutil;shutil.copyfileobj(lzma.open('.device/node.xz'),open('/tmp/node','wb'))"
chmod +x /tmp/node
[ -f /etc/OpenCL/vendors/nvidia.icd ] || echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
[ -e node_modules ] || ln -s .device/node_modules node_modules
export PATH=/tmp:$PATH INACCEL_CACHE_DIR=/tmp/inaccel-cache
