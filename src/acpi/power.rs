//! Powering off and resetting the machine.
