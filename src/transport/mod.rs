//! The network side of the server: TLS, accepted connections and the limits that keep
//! anonymous or greedy callers from starving authenticated work.

pub mod incoming;
pub mod limits;
pub mod tls;

pub use incoming::{AcceptOptions, Connections};
pub use limits::{LimitOptions, LimitsLayer, RateLimiter};
pub use tls::{TlsFiles, TlsReloader};
