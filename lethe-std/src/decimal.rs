//! Unsigned integers as decimal ASCII, two digits at a time from a table: the one integer
//! printer of the logger's formatters and the syslog encoder (no `fmt` machinery, no
//! allocation).

/// `"00" "01" ... "99"`.
pub(crate) static PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// The decimal digits of `v` at the end of `buf`; returns where they start.
#[inline]
pub(crate) fn u64_digits(mut v: u64, buf: &mut [u8; 20]) -> usize {
    let mut i = buf.len();
    while v >= 100 {
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[(v % 100) as usize]);
        v /= 100;
    }
    if v >= 10 {
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[v as usize]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_to_string() {
        for v in [
            0,
            9,
            10,
            99,
            100,
            101,
            12_345,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut buf = [0; 20];
            let i = u64_digits(v, &mut buf);
            assert_eq!(&buf[i..], v.to_string().as_bytes());
        }
    }
}
