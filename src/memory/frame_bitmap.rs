//! The kernel's physical frame allocator: one bit per frame, set when the
//! frame is free.
//!
//! The bitmap covers every frame from 0 to the end of the highest usable
//! memory area; its storage is memory taken from the memory map at boot (see
//! [`place_bitmap`]), so it grows with the machine instead of a constant.
//! Allocation scans from a cursor that only moves forward until memory runs
//! out, then wraps once: for a fresh bitmap that is a bump allocator, and
//! frees are found again on the next pass. Everything here is pure logic,
//! tested on the host against synthetic memory maps.

use core::fmt;

use x86_64::PhysAddr;

use super::frame::{Frame, FrameAllocator, PAGE_SIZE};
use super::region::{MemoryKind, MemoryRegion, PhysRange};

/// Why a frame could not be given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeError {
    /// The frame was already free.
    DoubleFree(Frame),
    /// The frame is not usable RAM the allocator manages.
    NotManaged(Frame),
}

impl fmt::Display for FreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DoubleFree(frame) => write!(f, "{frame} freed twice"),
            Self::NotManaged(frame) => write!(f, "{frame} is not usable RAM"),
        }
    }
}

/// Frame counts, in frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameStats {
    /// Usable frames the allocator manages.
    pub total: u64,
    /// Frames free now.
    pub free: u64,
}

impl FrameStats {
    /// Frames in use (handed out, or reserved at boot).
    pub fn used(&self) -> u64 {
        self.total - self.free
    }
}

/// Bytes of bitmap needed to cover every usable frame in `regions`.
pub fn bitmap_bytes(regions: &[MemoryRegion]) -> u64 {
    let end = regions
        .iter()
        .filter(|r| r.kind == MemoryKind::Usable)
        .map(|r| r.range.end.as_u64())
        .max()
        .unwrap_or(0);
    end.div_ceil(PAGE_SIZE).div_ceil(64) * 8
}

/// Finds page-aligned room for `bytes` in usable memory below `limit`,
/// overlapping none of `reserved`. First fit, lowest address first.
pub fn place_bitmap(
    regions: &[MemoryRegion],
    reserved: impl Iterator<Item = PhysRange> + Clone,
    bytes: u64,
    limit: u64,
) -> Option<PhysRange> {
    let len = bytes.div_ceil(PAGE_SIZE) * PAGE_SIZE;
    let mut best: Option<u64> = None;
    for region in regions.iter().filter(|r| r.kind == MemoryKind::Usable) {
        let end = region.range.end.as_u64().min(limit) & !(PAGE_SIZE - 1);
        // Never frame 0: keep the null page unused.
        let mut start = region
            .range
            .start
            .as_u64()
            .max(PAGE_SIZE)
            .next_multiple_of(PAGE_SIZE);
        while start.checked_add(len).is_some_and(|stop| stop <= end) {
            let candidate = (start, start + len);
            match reserved
                .clone()
                .filter(|r| r.start.as_u64() < candidate.1 && candidate.0 < r.end.as_u64())
                .map(|r| r.end.as_u64())
                .max()
            {
                Some(blocker_end) => start = blocker_end.next_multiple_of(PAGE_SIZE),
                None => {
                    best = Some(best.map_or(start, |b| b.min(start)));
                    break;
                }
            }
        }
    }
    best.map(|start| PhysRange::new(PhysAddr::new(start), PhysAddr::new(start + len)))
}

/// How many of the ranges in use at boot the allocator remembers, to refuse
/// frees of their frames.
const MAX_RESERVED: usize = 24;

/// The frame allocator. `'a` is the life of its bitmap storage and of the
/// memory map it checks frees against.
pub struct FrameBitmap<'a> {
    words: &'a mut [u64],
    regions: &'a [MemoryRegion],
    reserved: [PhysRange; MAX_RESERVED],
    reserved_count: usize,
    stats: FrameStats,
    /// Word index where the next search starts.
    cursor: usize,
}

impl<'a> FrameBitmap<'a> {
    /// Builds the allocator over `storage` (zeroed here; it must hold at
    /// least [`bitmap_bytes`] of `regions`). Usable areas become free, then
    /// every non-usable area and every range in `in_use` (the kernel, the
    /// boot information, the bitmap itself...) is taken out. Frame 0 is never
    /// handed out.
    pub fn new(
        storage: &'a mut [u64],
        regions: &'a [MemoryRegion],
        in_use: impl IntoIterator<Item = PhysRange>,
    ) -> Self {
        storage.fill(0);
        let mut bitmap = Self {
            words: storage,
            regions,
            reserved: [PhysRange::new(PhysAddr::zero(), PhysAddr::zero()); MAX_RESERVED],
            reserved_count: 0,
            stats: FrameStats { total: 0, free: 0 },
            cursor: 0,
        };
        for region in regions.iter().filter(|r| r.kind == MemoryKind::Usable) {
            bitmap.set_range(region.range, true);
        }
        // Where the map contradicts itself, the non-usable entry wins.
        for region in regions.iter().filter(|r| r.kind != MemoryKind::Usable) {
            bitmap.set_range(region.range, false);
        }
        bitmap.set_bit(0, false);
        bitmap.stats.total = bitmap.count_free();
        for range in in_use {
            bitmap.set_range(range, false);
            if let Some(slot) = bitmap.reserved.get_mut(bitmap.reserved_count) {
                *slot = range;
                bitmap.reserved_count += 1;
            }
        }
        bitmap.stats.free = bitmap.count_free();
        bitmap
    }

    /// Frame counts.
    pub fn stats(&self) -> FrameStats {
        self.stats
    }

    /// How many frames the bitmap covers.
    pub fn capacity(&self) -> u64 {
        self.words.len() as u64 * 64
    }

    /// Marks the frames of `range` free or used. A frame counts when the
    /// range covers any of it if marking used, only whole frames if free.
    fn set_range(&mut self, range: PhysRange, free: bool) {
        let (start, end) = if free {
            (
                range.start.as_u64().div_ceil(PAGE_SIZE),
                range.end.as_u64() / PAGE_SIZE,
            )
        } else {
            (
                range.start.as_u64() / PAGE_SIZE,
                range.end.as_u64().div_ceil(PAGE_SIZE),
            )
        };
        let end = end.min(self.capacity());
        for frame in start..end {
            self.set_bit(frame, free);
        }
    }

    fn set_bit(&mut self, frame: u64, free: bool) {
        let (word, bit) = ((frame / 64) as usize, frame % 64);
        if let Some(word) = self.words.get_mut(word) {
            if free {
                *word |= 1 << bit;
            } else {
                *word &= !(1 << bit);
            }
        }
    }

    fn is_free(&self, frame: u64) -> bool {
        self.words
            .get((frame / 64) as usize)
            .is_some_and(|word| word & (1 << (frame % 64)) != 0)
    }

    fn count_free(&self) -> u64 {
        self.words.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// A free frame, or `None` if every frame is in use.
    pub fn allocate(&mut self) -> Option<Frame> {
        if self.stats.free == 0 {
            return None;
        }
        let len = self.words.len();
        for step in 0..len {
            let index = (self.cursor + step) % len;
            let word = self.words[index];
            if word != 0 {
                let bit = u64::from(word.trailing_zeros());
                self.words[index] = word & !(1 << bit);
                self.cursor = index;
                self.stats.free -= 1;
                return Some(Frame::from_number(index as u64 * 64 + bit));
            }
        }
        None
    }

    /// Gives a frame back. Refuses frames that the allocator could never
    /// have handed out (outside usable RAM, partly reserved, in use since
    /// boot) and frames that are already free, so a bad free cannot corrupt
    /// the allocator.
    pub fn free(&mut self, frame: Frame) -> Result<(), FreeError> {
        let start = frame.start_address().as_u64();
        let end = start + PAGE_SIZE;
        let overlaps = |r: &PhysRange| r.start.as_u64() < end && start < r.end.as_u64();
        let managed = frame.number() != 0
            && frame.number() < self.capacity()
            && self.regions.iter().any(|r| {
                r.kind == MemoryKind::Usable
                    && r.range.start.as_u64() <= start
                    && end <= r.range.end.as_u64()
            })
            && !self
                .regions
                .iter()
                .any(|r| r.kind != MemoryKind::Usable && overlaps(&r.range))
            && !self.reserved[..self.reserved_count].iter().any(overlaps);
        if !managed {
            return Err(FreeError::NotManaged(frame));
        }
        if self.is_free(frame.number()) {
            return Err(FreeError::DoubleFree(frame));
        }
        self.set_bit(frame.number(), true);
        self.stats.free += 1;
        Ok(())
    }
}

// SAFETY: the bitmap hands out only frames that lie wholly in usable areas
// and outside every reserved range, and clears each bit as it hands the frame
// out, so no frame is given twice until it is freed.
unsafe impl FrameAllocator for FrameBitmap<'_> {
    fn allocate_frame(&mut self) -> Option<Frame> {
        self.allocate()
    }

    unsafe fn deallocate_frame(&mut self, frame: Frame) {
        if let Err(err) = self.free(frame) {
            log::error!("frame allocator: ignored a bad free: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;
    use std::vec;
    use std::vec::Vec;

    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;

    fn region(start: u64, end: u64, kind: MemoryKind) -> MemoryRegion {
        MemoryRegion {
            range: range(start, end),
            kind,
        }
    }

    fn range(start: u64, end: u64) -> PhysRange {
        PhysRange::new(PhysAddr::new(start), PhysAddr::new(end))
    }

    fn storage(regions: &[MemoryRegion]) -> Vec<u64> {
        vec![0; (bitmap_bytes(regions) / 8) as usize]
    }

    fn qemu_128m() -> Vec<MemoryRegion> {
        vec![
            region(0, 0x9_fc00, MemoryKind::Usable),
            region(0x9_fc00, 0xa_0000, MemoryKind::Reserved),
            region(0xf_0000, 0x10_0000, MemoryKind::Reserved),
            region(0x10_0000, 0x7fe_0000, MemoryKind::Usable),
            region(0x7fe_0000, 0x800_0000, MemoryKind::Reserved),
            region(0xfffc_0000, 0x1_0000_0000, MemoryKind::Reserved),
        ]
    }

    fn drain(bitmap: &mut FrameBitmap<'_>) -> Vec<Frame> {
        core::iter::from_fn(|| bitmap.allocate()).collect()
    }

    #[test]
    fn counts_usable_frames_and_reservations() {
        let regions = qemu_128m();
        let mut words = storage(&regions);
        let kernel = range(0x10_0000, 0x12_7000);
        let bitmap = FrameBitmap::new(&mut words, &regions, [kernel]);
        // 159 frames below 640 KiB less frame 0, plus 0x7ee0 frames above 1 MiB.
        let total = 0x9f - 1 + (0x7fe_0000 - 0x10_0000) / PAGE_SIZE;
        assert_eq!(bitmap.stats().total, total);
        assert_eq!(bitmap.stats().used(), 0x27);
        assert_eq!(bitmap.stats().free, total - 0x27);
    }

    #[test]
    fn never_hands_out_reserved_or_partial_frames() {
        let regions = vec![
            region(0x1800, 0x5800, MemoryKind::Usable), // partial frames at both ends
            region(0x8000, 0x10000, MemoryKind::Usable),
            region(0xa000, 0xb000, MemoryKind::Reserved), // overlaps the usable area
        ];
        let mut words = storage(&regions);
        let mut bitmap = FrameBitmap::new(&mut words, &regions, [range(0xc800, 0xd000)]);
        let frames: Vec<u64> = drain(&mut bitmap).iter().map(|f| f.number()).collect();
        assert_eq!(frames, [2, 3, 4, 8, 9, 0xb, 0xd, 0xe, 0xf]);
        assert_eq!(bitmap.allocate(), None);
        assert_eq!(bitmap.stats().free, 0);
    }

    #[test]
    fn exhaustion_returns_none_and_frees_come_back() {
        let regions = qemu_128m();
        let mut words = storage(&regions);
        let mut bitmap = FrameBitmap::new(&mut words, &regions, []);
        let before = bitmap.stats();
        let all = drain(&mut bitmap);
        assert_eq!(all.len() as u64, before.free);
        assert_eq!(bitmap.allocate(), None);
        assert_eq!(bitmap.allocate(), None);
        for frame in &all {
            bitmap.free(*frame).unwrap();
        }
        assert_eq!(bitmap.stats(), before);
        assert_eq!(drain(&mut bitmap).len(), all.len());
    }

    #[test]
    fn bad_frees_are_refused() {
        let regions = qemu_128m();
        let mut words = storage(&regions);
        let kernel = range(0x10_0000, 0x12_7000);
        let mut bitmap = FrameBitmap::new(&mut words, &regions, [kernel]);
        let frame = bitmap.allocate().unwrap();
        bitmap.free(frame).unwrap();
        // A frame in use since boot (the kernel) is never taken back.
        let kernel_frame = Frame::containing(PhysAddr::new(0x11_0000));
        assert_eq!(
            bitmap.free(kernel_frame),
            Err(FreeError::NotManaged(kernel_frame))
        );
        assert_eq!(bitmap.free(frame), Err(FreeError::DoubleFree(frame)));
        let mmio = Frame::containing(PhysAddr::new(0xfffc_0000));
        assert_eq!(bitmap.free(mmio), Err(FreeError::NotManaged(mmio)));
        let hole = Frame::containing(PhysAddr::new(0xa_0000));
        assert_eq!(bitmap.free(hole), Err(FreeError::NotManaged(hole)));
        // Partly usable: 0x9f000-0xa0000 has a reserved tail.
        let partial = Frame::containing(PhysAddr::new(0x9_f000));
        assert_eq!(bitmap.free(partial), Err(FreeError::NotManaged(partial)));
        assert_eq!(
            bitmap.free(Frame::from_number(0)),
            Err(FreeError::NotManaged(Frame::from_number(0)))
        );
    }

    #[test]
    fn memory_above_4_gib_is_managed() {
        let regions = vec![
            region(0x10_0000, 0xc000_0000, MemoryKind::Usable),
            region(0xc000_0000, 0x1_0000_0000, MemoryKind::Reserved),
            region(0x1_0000_0000, 0x1_4000_0000, MemoryKind::Usable),
        ];
        assert_eq!(bitmap_bytes(&regions), 0x1_4000_0000 / PAGE_SIZE / 8);
        let mut words = storage(&regions);
        let mut bitmap = FrameBitmap::new(&mut words, &regions, [range(0, 0xc000_0000)]);
        assert_eq!(bitmap.stats().free, GIB / PAGE_SIZE);
        let frame = bitmap.allocate().unwrap();
        assert_eq!(frame.start_address().as_u64(), 0x1_0000_0000);
    }

    #[test]
    fn tiny_and_empty_maps() {
        let empty: Vec<MemoryRegion> = vec![];
        assert_eq!(bitmap_bytes(&empty), 0);
        let mut none: Vec<u64> = vec![];
        let mut bitmap = FrameBitmap::new(&mut none, &empty, []);
        assert_eq!(bitmap.allocate(), None);
        assert_eq!(bitmap.stats(), FrameStats { total: 0, free: 0 });

        let one = vec![region(0x1000, 0x2000, MemoryKind::Usable)];
        let mut words = storage(&one);
        let mut bitmap = FrameBitmap::new(&mut words, &one, []);
        assert_eq!(bitmap.allocate(), Some(Frame::from_number(1)));
        assert_eq!(bitmap.allocate(), None);
    }

    #[test]
    fn bitmap_placement_avoids_reserved_ranges_and_frame_0() {
        let regions = qemu_128m();
        let kernel = range(0x10_0000, 0x12_7000);
        let info = range(0x12_7100, 0x12_7500);
        let placed =
            place_bitmap(&regions, [kernel, info].into_iter(), 0x1000 * 3, 4 * GIB).unwrap();
        // The low area (frames 1..0x9f) is first and free.
        assert_eq!(placed, range(0x1000, 0x4000));
        // Too big for the low area: goes after the kernel and the info.
        let placed = place_bitmap(&regions, [kernel, info].into_iter(), 2 * MIB, 4 * GIB).unwrap();
        assert_eq!(placed, range(0x12_8000, 0x12_8000 + 2 * MIB));
        // Nothing fits.
        assert_eq!(
            place_bitmap(&regions, [kernel].into_iter(), 200 * MIB, 4 * GIB),
            None
        );
        // Nothing below the limit.
        let high = vec![region(5 * GIB, 6 * GIB, MemoryKind::Usable)];
        assert_eq!(place_bitmap(&high, [].into_iter(), 4096, 4 * GIB), None);
    }

    fn arbitrary_map() -> impl Strategy<Value = (Vec<MemoryRegion>, Vec<PhysRange>)> {
        let area = (0u64..0x4000, 1u64..0x400, 0u8..4).prop_map(|(start, len, kind)| {
            let kind = match kind {
                0 | 1 => MemoryKind::Usable,
                2 => MemoryKind::Reserved,
                _ => MemoryKind::AcpiNvs,
            };
            // Unaligned ends on purpose.
            region(
                start * 0x800 + 0x123 * u64::from(kind == MemoryKind::Usable),
                (start + len) * 0x800,
                kind,
            )
        });
        let reserved = (0u64..0x2000, 1u64..0x40)
            .prop_map(|(start, len)| range(start * 0x1000, (start + len) * 0x1000));
        (
            prop::collection::vec(area, 0..12),
            prop::collection::vec(reserved, 0..6),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn frames_are_unique_usable_and_unreserved((regions, reserved) in arbitrary_map(),
                                                   ops in prop::collection::vec(any::<(bool, u16)>(), 0..400)) {
            let mut words = storage(&regions);
            let mut bitmap = FrameBitmap::new(&mut words, &regions, reserved.iter().copied());
            let total = bitmap.stats().total;
            let mut live: BTreeSet<Frame> = BTreeSet::new();
            for (alloc, pick) in ops {
                if alloc || live.is_empty() {
                    match bitmap.allocate() {
                        Some(frame) => {
                            let (start, end) = (frame.start_address().as_u64(), frame.start_address().as_u64() + PAGE_SIZE);
                            prop_assert!(frame.number() != 0);
                            prop_assert!(live.insert(frame), "{} handed out twice", frame);
                            prop_assert!(regions.iter().any(|r| r.kind == MemoryKind::Usable
                                && r.range.start.as_u64() <= start && end <= r.range.end.as_u64()));
                            prop_assert!(!regions.iter().any(|r| r.kind != MemoryKind::Usable
                                && r.range.start.as_u64() < end && start < r.range.end.as_u64()));
                            prop_assert!(!reserved.iter().any(|r| r.start.as_u64() < end && start < r.end.as_u64()));
                        }
                        None => prop_assert_eq!(bitmap.stats().free, 0),
                    }
                } else {
                    let frame = *live.iter().nth(usize::from(pick) % live.len()).unwrap();
                    live.remove(&frame);
                    prop_assert_eq!(bitmap.free(frame), Ok(()));
                }
                prop_assert_eq!(bitmap.stats().total, total);
                prop_assert_eq!(bitmap.stats().used() as usize >= live.len(), true);
            }
        }
    }
}

/// Benchmarks, run by `make bench` (ignored by `cargo test`): each prints
/// `BENCH <name> <median> <unit>` lines that tools/bench collects.
#[cfg(test)]
mod bench {
    use super::*;
    use std::println;
    use std::time::Instant;
    use std::vec;
    use std::vec::Vec;

    fn median(mut samples: Vec<f64>) -> f64 {
        samples.sort_by(f64::total_cmp);
        samples[samples.len() / 2]
    }

    #[test]
    #[ignore = "benchmark: run by make bench"]
    fn bench_frame_alloc_free() {
        // A 4 GiB machine's map.
        let regions = vec![
            MemoryRegion {
                range: PhysRange::new(PhysAddr::new(0x10_0000), PhysAddr::new(0xc000_0000)),
                kind: MemoryKind::Usable,
            },
            MemoryRegion {
                range: PhysRange::new(PhysAddr::new(0x1_0000_0000), PhysAddr::new(0x1_4000_0000)),
                kind: MemoryKind::Usable,
            },
        ];
        let mut words = vec![0u64; (bitmap_bytes(&regions) / 8) as usize];
        let mut bitmap = FrameBitmap::new(&mut words, &regions, []);
        let mut held: Vec<Frame> = Vec::with_capacity(1024);
        // Pattern: allocate 1024 frames, free them in reverse, repeat.
        let mut samples = Vec::new();
        for _ in 0..21 {
            let start = Instant::now();
            for _ in 0..100 {
                held.extend((0..1024).map(|_| bitmap.allocate().unwrap()));
                for frame in held.drain(..).rev() {
                    bitmap.free(frame).unwrap();
                }
            }
            samples.push(start.elapsed().as_nanos() as f64 / (100.0 * 1024.0));
        }
        let ns = median(samples);
        println!("BENCH host_frame_alloc_free_pair {ns:.1} ns");
        println!("BENCH host_frame_alloc_free_pairs_per_s {:.0} /s", 1e9 / ns);
    }
}
