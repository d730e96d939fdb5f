//! A connection's byte stream after the handshake, clear or TLS, shared by the thread that
//! reads requests and the one that writes responses. Under TLS both use one rustls connection:
//! the reader locks it only to decrypt what it read, the writer takes the write lock then the
//! connection lock (always in that order) to encrypt and send, so an ATTENTION is read while a
//! long response is being written.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::tls::{drain, feed};

pub(super) enum Channel {
    Plain {
        read: Mutex<TcpStream>,
        write: Mutex<TcpStream>,
    },
    Tls {
        read: Mutex<TcpStream>,
        write: Mutex<TcpStream>,
        // Boxed: a TLS connection is a kilobyte; the clear variant needs none of it.
        conn: Box<Mutex<rustls::ServerConnection>>,
    },
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Channel {
    pub(super) fn plain(stream: &TcpStream) -> io::Result<Channel> {
        Ok(Channel::Plain {
            read: Mutex::new(stream.try_clone()?),
            write: Mutex::new(stream.try_clone()?),
        })
    }

    /// TLS over `stream`; `leftover` are TLS bytes already read past the handshake.
    pub(super) fn tls(
        stream: &TcpStream,
        mut conn: rustls::ServerConnection,
        leftover: &[u8],
    ) -> io::Result<Channel> {
        feed(&mut conn, leftover)?;
        Ok(Channel::Tls {
            read: Mutex::new(stream.try_clone()?),
            write: Mutex::new(stream.try_clone()?),
            conn: Box::new(Mutex::new(conn)),
        })
    }

    /// Clear-text bytes from the client; `None` at end of stream. One reader at a time.
    pub(super) fn recv(&self, scratch: &mut [u8]) -> io::Result<Option<Vec<u8>>> {
        match self {
            Channel::Plain { read, .. } => {
                let n = lock(read).read(scratch)?;
                Ok((n > 0).then(|| scratch[..n].to_vec()))
            }
            Channel::Tls { read, write, conn } => loop {
                {
                    let mut c = lock(conn);
                    let mut plain = Vec::new();
                    match c.reader().read_to_end(&mut plain) {
                        Ok(_) if plain.is_empty() => return Ok(None),
                        Ok(_) => return Ok(Some(plain)),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            if !plain.is_empty() {
                                return Ok(Some(plain));
                            }
                        }
                        Err(e) => return Err(e),
                    }
                }
                let n = lock(read).read(scratch)?;
                if n == 0 {
                    return Ok(None);
                }
                let alert = {
                    let mut c = lock(conn);
                    let fed = feed(&mut c, &scratch[..n]);
                    let wants_write = c.wants_write();
                    drop(c);
                    if wants_write {
                        let mut w = lock(write);
                        let bytes = drain(&mut lock(conn))?;
                        w.write_all(&bytes)?;
                    }
                    fed
                };
                alert?;
            },
        }
    }

    /// Sends clear-text bytes (encrypting them under TLS).
    pub(super) fn send(&self, data: &[u8]) -> io::Result<()> {
        match self {
            Channel::Plain { write, .. } => lock(write).write_all(data),
            Channel::Tls { write, conn, .. } => {
                let mut w = lock(write);
                let bytes = {
                    let mut c = lock(conn);
                    c.writer().write_all(data)?;
                    drain(&mut c)?
                };
                w.write_all(&bytes)
            }
        }
    }

    /// Takes the clear-text socket back (TLS for the login packet only).
    pub(super) fn into_plain(self) -> io::Result<Channel> {
        match self {
            Channel::Tls { read, write, .. } => Ok(Channel::Plain {
                read: Mutex::new(read.into_inner().unwrap_or_else(PoisonError::into_inner)),
                write: Mutex::new(write.into_inner().unwrap_or_else(PoisonError::into_inner)),
            }),
            plain => Ok(plain),
        }
    }

    pub(super) fn shutdown(&self) {
        let (Channel::Plain { write, .. } | Channel::Tls { write, .. }) = self;
        let _ = lock(write).shutdown(Shutdown::Both);
    }
}
