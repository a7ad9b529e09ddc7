//! Reading SSH's binary encodings (RFC 4251 strings and integers, and the
//! older bit-counted integers of SSH-1 and ssh.com keys), shared by the
//! validators of those formats.

/// The bytes still to read; each read takes from the front.
pub struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.0.get(..n)?;
        self.0 = &self.0[n..];
        Some(s)
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    /// A 32-bit length, then that many bytes.
    pub fn string(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    /// SSH-1's integer: a 16-bit bit count, then the bytes.
    pub fn mpint_bits16(&mut self) -> Option<&'a [u8]> {
        let bits = u16::from_be_bytes(self.take(2)?.try_into().ok()?) as usize;
        self.take(bits.div_ceil(8))
    }

    /// ssh.com's integer: a 32-bit bit count, then the bytes.
    pub fn mpint_bits32(&mut self) -> Option<&'a [u8]> {
        let bits = self.u32()? as usize;
        self.take(bits.div_ceil(8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_order_and_stops_at_the_end() {
        let data = [0, 0, 0, 2, b'h', b'i', 0, 9, 0x01, 0xff, 7, 0, 0, 0, 9, 1];
        let mut r = Reader(&data);
        assert_eq!(r.string(), Some(&b"hi"[..]));
        assert_eq!(r.mpint_bits16(), Some(&[0x01, 0xff][..]));
        assert_eq!(r.u8(), Some(7));
        // Nine bits need two bytes; only one is left.
        assert_eq!(r.mpint_bits32(), None);
        let mut short = Reader(&[0, 0, 1]);
        assert_eq!(short.u32(), None);
    }
}
