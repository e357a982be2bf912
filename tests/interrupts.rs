//! Interrupts that return: breakpoints, the timer, printing from a handler,
//! and halting while idle.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};

use pyrite::interrupts::{self, gdt, irq, pic, timer};
use pyrite::{memory, println, time};

pyrite::test_kernel!(
    breakpoint_returns_and_execution_continues,
    timer_ticks_at_the_programmed_rate,
    printing_from_an_interrupt_while_printing_does_not_hang,
    a_line_carries_a_bounded_number_of_handlers,
    halting_while_idle_loses_no_tick,
    ist_stacks_sit_above_guard_pages,
    no_unexpected_interrupts,
);

fn breakpoint_returns_and_execution_continues() {
    let mut counter = 0u64;
    for _ in 0..3 {
        x86_64::instructions::interrupts::int3();
        counter += 1;
    }
    assert_eq!(core::hint::black_box(counter), 3);
}

fn timer_ticks_at_the_programmed_rate() {
    let hz = time::tsc_hz().expect("TSC calibrated");
    // Start on a tick edge, then count 50 ticks (0.5 s at 100 Hz).
    let first = timer::ticks();
    while timer::ticks() == first {
        x86_64::instructions::hlt();
    }
    let start_ticks = timer::ticks();
    let start_tsc = pyrite::arch::read_tsc();
    while timer::ticks() < start_ticks + 50 {
        x86_64::instructions::hlt();
    }
    let elapsed = time::ticks_to_duration(pyrite::arch::read_tsc() - start_tsc, hz);
    let expected = timer::ticks_to_duration(50);
    let ratio = elapsed.as_secs_f64() / expected.as_secs_f64();
    println!(
        "  50 ticks took {} us by the TSC ({:.3} of the programmed rate)",
        elapsed.as_micros(),
        ratio
    );
    // A wrong divisor is off by a factor of two or more; an emulator on a
    // loaded host delivers some ticks late or merges two, which stretches
    // the ratio by tens of percent, not by two.
    assert!((0.75..=1.5).contains(&ratio), "ratio {ratio}");
}

static IRQ_PRINTS: AtomicU64 = AtomicU64::new(0);

/// A second handler on the timer's line, as a driver sharing it would be.
fn print_from_timer() {
    if IRQ_PRINTS.fetch_add(1, Ordering::Relaxed) < 20 {
        println!("  [from the timer interrupt, tick {}]", timer::ticks());
    }
}

fn printing_from_an_interrupt_while_printing_does_not_hang() {
    irq::register(pic::IRQ_TIMER, print_from_timer).expect("room on IRQ 0");
    let start = timer::ticks();
    let mut lines = 0;
    while IRQ_PRINTS.load(Ordering::Relaxed) < 20 {
        println!("  main code line {lines}");
        lines += 1;
        assert!(timer::ticks() < start + 500, "the timer stopped printing");
    }
    assert!(lines > 0);
    assert!(irq::count(pic::IRQ_TIMER) >= timer::ticks());
}

fn a_line_carries_a_bounded_number_of_handlers() {
    fn nothing() {}
    // IRQ 3 (COM2) is free here: fill it, then one more is refused.
    let mut taken = 0;
    while irq::register(3, nothing).is_ok() {
        taken += 1;
        assert!(taken <= 16, "no bound on handlers per line");
    }
    assert!(taken >= 1);
    assert_eq!(irq::register(3, nothing), Err(irq::IrqError::LineFull(3)));
    assert_eq!(
        irq::register(16, nothing),
        Err(irq::IrqError::NoSuchLine(16))
    );
}

fn halting_while_idle_loses_no_tick() {
    // Sleep with the race-free idle: each wait returns after an interrupt.
    let start = timer::ticks();
    let mut wakeups = 0;
    while timer::ticks() < start + 10 {
        interrupts::wait_for_interrupt_if(|| true);
        wakeups += 1;
    }
    assert!(wakeups >= 10, "{wakeups} wake-ups for 10 ticks");
    assert!(x86_64::instructions::interrupts::are_enabled());
}

fn ist_stacks_sit_above_guard_pages() {
    for slot in [
        gdt::DOUBLE_FAULT_IST,
        gdt::PAGE_FAULT_IST,
        gdt::NMI_IST,
        gdt::MACHINE_CHECK_IST,
    ] {
        let stack = gdt::ist_stack(slot).expect("IST stack set up");
        assert_eq!(stack.top() - stack.bottom(), gdt::IST_STACK_PAGES * 4096);
        memory::with(|mem| {
            assert_eq!(mem.tables.translate_page(stack.guard_page()), None);
            assert!(mem.tables.translate(stack.bottom()).is_some());
        })
        .unwrap();
        assert_eq!(
            memory::describe_address(stack.guard_page().start_address().as_u64()),
            memory::AddressKind::StackGuard
        );
    }
}

fn no_unexpected_interrupts() {
    assert_eq!(pic::unexpected_count(), 0);
}
