use super::*;
use std::vec::Vec;

fn report(modifiers: u8, keys: &[u8]) -> BootReport {
    let mut bytes = [0u8; 8];
    bytes[0] = modifiers;
    bytes[2..2 + keys.len()].copy_from_slice(keys);
    BootReport::parse(&bytes).unwrap()
}

fn events(state: &mut KeyState, r: BootReport) -> Vec<KeyEvent> {
    let mut out = Vec::new();
    state.update(&r, |e| out.push(e));
    out
}

#[test]
fn short_reports_are_rejected() {
    assert_eq!(BootReport::parse(&[0; 7]), None);
    assert!(BootReport::parse(&[0; 8]).is_some());
}

#[test]
fn press_hold_and_release() {
    let mut s = KeyState::default();
    assert_eq!(events(&mut s, report(0, &[0x04])), [KeyEvent::Press(0x04)]);
    assert_eq!(events(&mut s, report(0, &[0x04])), []);
    assert_eq!(
        events(&mut s, report(0, &[0x04, 0x05])),
        [KeyEvent::Press(0x05)]
    );
    // The key slots need not keep their order.
    assert_eq!(
        events(&mut s, report(0, &[0x05])),
        [KeyEvent::Release(0x04)]
    );
    assert_eq!(events(&mut s, report(0, &[])), [KeyEvent::Release(0x05)]);
}

#[test]
fn modifiers_go_down_before_keys_and_up_after_them() {
    let mut s = KeyState::default();
    // Left shift (bit 1) with 'h'.
    assert_eq!(
        events(&mut s, report(0x02, &[0x0B])),
        [KeyEvent::Press(0xE1), KeyEvent::Press(0x0B)]
    );
    // Right alt added (bit 6), shift kept.
    assert_eq!(
        events(&mut s, report(0x42, &[0x0B])),
        [KeyEvent::Press(0xE6)]
    );
    assert_eq!(
        events(&mut s, report(0, &[])),
        [
            KeyEvent::Release(0x0B),
            KeyEvent::Release(0xE1),
            KeyEvent::Release(0xE6)
        ]
    );
}

#[test]
fn rollover_reports_change_nothing() {
    let mut s = KeyState::default();
    events(&mut s, report(0x01, &[0x04, 0x05]));
    let rollover = report(0x01, &[0x01; 6]);
    assert!(rollover.is_error());
    assert_eq!(events(&mut s, rollover), []);
    // After the rollover, only what really changed is reported.
    assert_eq!(
        events(&mut s, report(0x01, &[0x05])),
        [KeyEvent::Release(0x04)]
    );
}

#[test]
fn release_all_releases_keys_and_modifiers() {
    let mut s = KeyState::default();
    events(&mut s, report(0x11, &[0x04, 0x2C]));
    let mut out = Vec::new();
    s.release_all(|e| out.push(e));
    assert_eq!(
        out,
        [
            KeyEvent::Release(0x04),
            KeyEvent::Release(0x2C),
            KeyEvent::Release(0xE0),
            KeyEvent::Release(0xE4)
        ]
    );
    assert_eq!(events(&mut s, report(0, &[])), []);
}

#[test]
fn a_usage_listed_twice_is_pressed_once() {
    let mut s = KeyState::default();
    assert_eq!(
        events(&mut s, report(0, &[0x04, 0x04])),
        [KeyEvent::Press(0x04)]
    );
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn repeat_waits_the_delay_then_runs_at_the_rate() {
    let mut r = Repeat::default();
    r.on_event(KeyEvent::Press(0x04), ms(1000));
    assert_eq!(r.due(ms(1000)), None);
    assert_eq!(r.due(ms(1499)), None);
    assert_eq!(r.due(ms(1500)), Some(0x04));
    assert_eq!(r.due(ms(1510)), None);
    assert_eq!(r.due(ms(1534)), Some(0x04));
    // 30 a second: about 30 repeats in the next second.
    let count = (1535..2535).filter(|&t| r.due(ms(t)).is_some()).count();
    assert!((29..=31).contains(&count), "{count} repeats in a second");
}

#[test]
fn repeat_stops_on_release_and_follows_the_last_key() {
    let mut r = Repeat::default();
    r.on_event(KeyEvent::Press(0x04), ms(0));
    r.on_event(KeyEvent::Press(0x05), ms(100));
    // Releasing the older key does not stop the newer one's repeat.
    r.on_event(KeyEvent::Release(0x04), ms(200));
    assert_eq!(r.due(ms(600)), Some(0x05));
    r.on_event(KeyEvent::Release(0x05), ms(610));
    assert_eq!(r.due(ms(2000)), None);
    // Modifiers never repeat.
    r.on_event(KeyEvent::Press(0xE1), ms(3000));
    assert_eq!(r.due(ms(4000)), None);
}

#[test]
fn a_late_poll_does_not_fire_a_burst() {
    let mut r = Repeat::default();
    r.on_event(KeyEvent::Press(0x04), ms(0));
    assert_eq!(r.due(ms(2000)), Some(0x04));
    assert_eq!(r.due(ms(2001)), None);
}

#[test]
fn the_next_repeat_is_known_while_a_key_is_held_and_none_after() {
    let mut r = Repeat::default();
    assert_eq!(r.next_due(), None);
    r.on_event(KeyEvent::Press(0x04), ms(1000));
    assert_eq!(r.next_due(), Some(ms(1500)));
    assert_eq!(r.due(ms(1500)), Some(0x04));
    assert!(r.next_due().is_some_and(|next| next > ms(1500)));
    r.on_event(KeyEvent::Release(0x04), ms(1600));
    assert_eq!(r.next_due(), None);
    // A modifier held gives no repeat to wait for.
    r.on_event(KeyEvent::Press(0xE0), ms(1700));
    assert_eq!(r.next_due(), None);
}
