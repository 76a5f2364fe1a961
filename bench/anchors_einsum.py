"""Published einsum-suite figures (ms, 1 thread, median, stored opt_flops paths) of tenferro-rs
(trace mode, eager mode), PyTorch (Python) and JAX (Python, XLA CPU dot), from
../shared/bench-data/ANCHORS.md, "Einsum suite" table (tensor4all/tenferro-benchmark,
result/linux-cpu/cpu/einsum.md, tenferro-rs commit 68855c2b, Intel Xeon E5-2699 v3 with MKL),
keyed by instance name, with the best published ratio to PyTorch
(min(tenferro trace, tenferro eager, JAX) / PyTorch) that Tangent / PyTorch, measured in the
same run on this machine, must beat. Regenerate the dict from ANCHORS.md if the table changes."""

# instance: (tenferro trace, tenferro eager, pytorch, jax, best ratio)
PUBLISHED_EINSUM = {
    'bin_batched_matmul_b32_m128_n128_k128': (3.624, 3.43, 8.776, 1.994, 0.2272),
    'bin_batched_matmul_b32_m64_n64_k64': (0.481, 0.474, 1.311, 1.494, 0.3616),
    'bin_batched_outer_product_compact_j16_k16_o64_t64': (0.646, 0.659, 0.959, 1.423, 0.6736),
    'bin_batched_outer_product_noncompact_j16_k16_o64_t64': (0.655, 0.686, 0.845, 1.487, 0.7751),
    'bin_elementwise_mul_2048x2048': (6.614, 19.953, 35.88, 14.158, 0.1843),
    'bin_matmul_1024': (51.173, 50.665, 104.393, 11.414, 0.1093),
    'bin_matmul_256': (0.913, 0.882, 2.118, 1.221, 0.4164),
    'bin_outer_product_4096': (60.125, 60.928, 113.812, 44.797, 0.3936),
    'lm_batch_likelihood_brackets_4_4d': (30.472, 98.331, 89.193, 34.302, 0.3416),
    'lm_batch_likelihood_sentence_4_4d': (27.709, 106.052, 57.743, 38.238, 0.4799),
    'nary_matmul_chain_64': (0.053, 0.075, 0.205, 0.661, 0.2585),
    'str_matrix_chain_multiplication_100': (12.215, 20.872, 29.285, 42.852, 0.4171),
    'str_mps_varying_inner_product_200': (15.591, 46.705, 37.918, 85.489, 0.4112),
    'str_nw_mera_open_26': (1307.156, 2497.934, 1492.519, 574.203, 0.3847),
    'tensornetwork_permutation_light_415': (629.851, 1965.813, 920.54, 490.452, 0.5328),
}
