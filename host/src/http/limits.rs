//! Caps on open connections: in total and per client address, so slow or idle
//! clients cannot hold every file descriptor and task of the server, and one
//! address cannot take the whole total.
//!
//! A connection over a cap is answered at once with a best-effort `503` (one
//! non-blocking write of a fixed response, nothing waits for the client) and
//! closed; [`ConnectionTracker::admit`] decides, and the [`ConnectionSlot`] it
//! returns gives the place back when the connection ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// How many connections may be open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub max_total: usize,
    pub max_per_client: usize,
}

/// Which cap a refused connection hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Total,
    PerClient,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Total => "too many open connections",
            Refusal::PerClient => "too many open connections from this client",
        }
    }
}

/// The response written to a refused connection before it is closed.
pub const REFUSED_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 79\r\n\
\r\n\
{\"error\":{\"code\":\"too_many_connections\",\"message\":\"too many open connections\"}}";

#[derive(Debug, Default)]
struct Open {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// Counts open connections against [`ConnectionLimits`].
#[derive(Debug)]
pub struct ConnectionTracker {
    limits: ConnectionLimits,
    open: Mutex<Open>,
}

impl ConnectionTracker {
    pub fn new(limits: ConnectionLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            open: Mutex::new(Open::default()),
        })
    }

    /// Takes a place for a new connection from `client`, or says which cap is full.
    pub fn admit(self: &Arc<Self>, client: IpAddr) -> Result<ConnectionSlot, Refusal> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.limits.max_total {
            return Err(Refusal::Total);
        }
        let from_client = open.per_client.entry(client).or_insert(0);
        if *from_client >= self.limits.max_per_client {
            return Err(Refusal::PerClient);
        }
        *from_client += 1;
        open.total += 1;
        Ok(ConnectionSlot {
            tracker: self.clone(),
            client,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).total
    }

    fn release(&self, client: IpAddr) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.per_client.get_mut(&client) {
            *count -= 1;
            if *count == 0 {
                open.per_client.remove(&client);
            }
        }
    }
}

/// One open connection's place; dropping it frees the place.
#[derive(Debug)]
pub struct ConnectionSlot {
    tracker: Arc<ConnectionTracker>,
    client: IpAddr,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.tracker.release(self.client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn one_client_cannot_open_more_than_its_share() {
        let tracker = ConnectionTracker::new(ConnectionLimits {
            max_total: 10,
            max_per_client: 2,
        });
        let _a = tracker.admit(ip(1)).unwrap();
        let _b = tracker.admit(ip(1)).unwrap();
        assert_eq!(tracker.admit(ip(1)).unwrap_err(), Refusal::PerClient);
        // Another address still gets in.
        let _c = tracker.admit(ip(2)).unwrap();
        assert_eq!(tracker.open(), 3);
    }

    #[test]
    fn the_total_cap_holds_across_clients() {
        let tracker = ConnectionTracker::new(ConnectionLimits {
            max_total: 3,
            max_per_client: 3,
        });
        let slots: Vec<_> = (1..=3).map(|n| tracker.admit(ip(n)).unwrap()).collect();
        assert_eq!(tracker.admit(ip(4)).unwrap_err(), Refusal::Total);
        drop(slots);
        assert_eq!(tracker.open(), 0);
        assert!(tracker.admit(ip(4)).is_ok());
    }

    #[test]
    fn a_closed_connection_gives_its_place_back() {
        let tracker = ConnectionTracker::new(ConnectionLimits {
            max_total: 1,
            max_per_client: 1,
        });
        let slot = tracker.admit(ip(1)).unwrap();
        assert_eq!(tracker.admit(ip(1)).unwrap_err(), Refusal::Total);
        drop(slot);
        let _again = tracker.admit(ip(1)).unwrap();
        assert_eq!(tracker.open(), 1);
    }

    #[test]
    fn the_refusal_is_a_complete_http_response_with_a_json_error() {
        let text = std::str::from_utf8(REFUSED_RESPONSE).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"]["code"], "too_many_connections");
    }
}
