//! The batch interpreter: variables, control flow, transactions and the statements it hands
//! to the host.
