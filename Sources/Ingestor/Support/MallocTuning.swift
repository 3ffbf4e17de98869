import CMalloc

/// glibc malloc settings for a daemon that allocates and frees megabyte-sized buffers
/// (chunk payloads, column buffers, encoded bodies) thousands of times a second.
///
/// With glibc's defaults every such buffer above the dynamic mmap threshold is a fresh
/// `mmap` whose pages fault in one by one on first touch and are unmapped on free, and
/// freed heap tops are trimmed back to the kernel: on the Kafka path page faults and
/// the copies of buffers growing through `mremap`/`realloc` were ~15% of the daemon's
/// CPU. Keeping buffers up to 32 MiB in the heap and trimming only above a quarter of
/// the memory budget lets freed memory be reused warm. The trim threshold scales with
/// `pipeline.memory_budget`, so what the process keeps beyond its live data stays a
/// fraction of the budget the operator chose.
enum MallocTuning {
    static func apply(memoryBudget: Int) {
        let mmapThreshold: Int32 = 32 << 20
        let trim = Int32(clamping: Swift.min(Swift.max(memoryBudget / 4, 8 << 20), 256 << 20))
        _ = sluice_mallopt(SLUICE_M_MMAP_THRESHOLD, mmapThreshold)
        _ = sluice_mallopt(SLUICE_M_TRIM_THRESHOLD, trim)
        _ = sluice_mallopt(SLUICE_M_TOP_PAD, Swift.min(trim / 2, 16 << 20))
    }
}
