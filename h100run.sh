#!/bin/bash
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export LD_LIBRARY_PATH=$PWD/.devlibs VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
for t in test_gpu_epilogue test_gpu_nn test_gpu_matmul test_gpu_program test_gpu_fused test_gpu; do echo "== $t"; timeout 150 .devlibs/$t 2>&1 | grep -v "^\[----\]   $" | grep "FAIL\|Assert\|Synthesis" | head -6; done
echo "== staged"; for t in test_gpu_program test_gpu; do TANGENT_VK_STAGING=1 timeout 150 .devlibs/$t 2>&1 | tail -1; done
echo "== bench"; .devlibs/bench_cnn --device vulkan --filter train 2>&1 | grep -v "^{"
python3 bench/baseline_cnn.py --device cuda --filter train 2>&1 | grep -v "^{" | tail -2
.devlibs/bench_gpu --filter node_add 2>&1 | grep -v "^{" | tail -2
