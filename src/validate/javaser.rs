//! Java object serialization, read only far enough to step over it: a
//! JCEKS secret-key entry is a serialized `SealedObject`, and the entries
//! after it start where it ends. The grammar is the Java Object
//! Serialization Specification's (chapter 6), without proxies and resets;
//! what it does not cover, or hostile nesting, is `None`.

use super::jks::Reader;

const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_STRING: u8 = 0x74;
const TC_ARRAY: u8 = 0x75;
const TC_BLOCKDATA: u8 = 0x77;
const TC_ENDBLOCKDATA: u8 = 0x78;
const TC_BLOCKDATALONG: u8 = 0x7A;
const TC_LONGSTRING: u8 = 0x7C;
const TC_ENUM: u8 = 0x7E;
const BASE_HANDLE: u32 = 0x7E_0000;
const SC_WRITE_METHOD: u8 = 0x01;
const SC_SERIALIZABLE: u8 = 0x02;
const SC_EXTERNALIZABLE: u8 = 0x04;
const SC_BLOCK_DATA: u8 = 0x08;
const MAX_DEPTH: usize = 32;
const MAX_HANDLES: usize = 10_000;

/// A class descriptor: its name, flags, field type codes and superclass.
#[derive(Clone, Default)]
struct Class {
    name: String,
    flags: u8,
    fields: Vec<u8>,
    parent: Option<usize>,
}

struct Stream<'r, 'a> {
    r: &'r mut Reader<'a>,
    /// Every handle so far: a class descriptor, or something else.
    handles: Vec<Option<Class>>,
    depth: usize,
}

/// Step over one serialization stream (magic, version, one object).
pub fn skip_stream(r: &mut Reader) -> Option<()> {
    if r.take(4)? != [0xAC, 0xED, 0x00, 0x05] {
        return None;
    }
    let mut s = Stream {
        r,
        handles: Vec::new(),
        depth: 0,
    };
    s.content()
}

impl Stream<'_, '_> {
    fn byte(&mut self) -> Option<u8> {
        self.r.take(1).map(|b| b[0])
    }

    fn peek(&self) -> Option<u8> {
        self.r.data.get(self.r.pos).copied()
    }

    fn utf(&mut self) -> Option<String> {
        let n = usize::from(self.r.u16()?);
        Some(String::from_utf8_lossy(self.r.take(n)?).into_owned())
    }

    fn handle(&mut self, class: Option<Class>) -> Option<usize> {
        (self.handles.len() < MAX_HANDLES).then_some(())?;
        self.handles.push(class);
        Some(self.handles.len() - 1)
    }

    fn reference(&mut self) -> Option<usize> {
        let h = self.r.u32()?.checked_sub(BASE_HANDLE)? as usize;
        (h < self.handles.len()).then_some(h)
    }

    /// One content item; nesting is bounded.
    fn content(&mut self) -> Option<()> {
        self.depth += 1;
        let ok = (self.depth <= MAX_DEPTH)
            .then_some(())
            .and_then(|_| self.item());
        self.depth -= 1;
        ok
    }

    fn item(&mut self) -> Option<()> {
        match self.byte()? {
            TC_NULL => {}
            TC_REFERENCE => {
                self.reference()?;
            }
            TC_STRING => {
                self.utf()?;
                self.handle(None)?;
            }
            TC_LONGSTRING => {
                let n =
                    usize::try_from(u64::from_be_bytes(self.r.take(8)?.try_into().ok()?)).ok()?;
                self.r.take(n)?;
                self.handle(None)?;
            }
            TC_CLASSDESC => {
                self.class_body()?;
            }
            TC_BLOCKDATA => {
                let n = usize::from(self.byte()?);
                self.r.take(n)?;
            }
            TC_BLOCKDATALONG => {
                let n = self.r.u32()? as usize;
                self.r.take(n)?;
            }
            TC_ARRAY => self.array()?,
            TC_OBJECT => {
                let class = self.class_desc()?;
                self.handle(None)?;
                self.object_data(class?)?;
            }
            TC_ENUM => {
                self.class_desc()?;
                self.handle(None)?;
                self.content()?;
            }
            _ => return None,
        }
        Some(())
    }

    /// A class descriptor where one is expected: its handle, or `None`
    /// inside for `TC_NULL`.
    fn class_desc(&mut self) -> Option<Option<usize>> {
        match self.byte()? {
            TC_NULL => Some(None),
            TC_REFERENCE => {
                let h = self.reference()?;
                self.handles[h].as_ref()?;
                Some(Some(h))
            }
            TC_CLASSDESC => self.class_body().map(Some),
            _ => None,
        }
    }

    /// After `TC_CLASSDESC`: name, serialVersionUID, handle, flags, fields,
    /// annotation, superclass.
    fn class_body(&mut self) -> Option<usize> {
        let name = self.utf()?;
        self.r.take(8)?;
        let h = self.handle(Some(Class::default()))?;
        let flags = self.byte()?;
        let count = self.r.u16()?;
        let mut fields = Vec::with_capacity(usize::from(count).min(256));
        for _ in 0..count {
            let code = self.byte()?;
            self.utf()?;
            if code == b'[' || code == b'L' {
                self.content()?; // the field's class name, a string
            }
            width(code)?;
            fields.push(code);
        }
        self.annotation()?;
        let parent = self.class_desc()?;
        self.handles[h] = Some(Class {
            name,
            flags,
            fields,
            parent,
        });
        Some(h)
    }

    /// Contents up to `TC_ENDBLOCKDATA`.
    fn annotation(&mut self) -> Option<()> {
        while self.peek()? != TC_ENDBLOCKDATA {
            self.content()?;
        }
        self.byte().map(|_| ())
    }

    fn array(&mut self) -> Option<()> {
        let class = self.class_desc()??;
        self.handle(None)?;
        let n = usize::try_from(i32::from_be_bytes(self.r.take(4)?.try_into().ok()?)).ok()?;
        let name = self.handles[class].as_ref()?.name.clone();
        let code = *name.as_bytes().get(1)?;
        match width(code)? {
            0 => (0..n).try_for_each(|_| self.content()),
            w => self.r.take(n.checked_mul(w)?).map(|_| ()),
        }
    }

    /// An object's class data, superclass first.
    fn object_data(&mut self, class: usize) -> Option<()> {
        let mut chain = Vec::new();
        let mut at = Some(class);
        while let Some(h) = at {
            (chain.len() < MAX_DEPTH).then_some(())?;
            let c = self.handles[h].clone()?;
            at = c.parent;
            chain.push(c);
        }
        for c in chain.iter().rev() {
            if c.flags & SC_EXTERNALIZABLE != 0 {
                (c.flags & SC_BLOCK_DATA != 0).then_some(())?;
                self.annotation()?;
                continue;
            }
            if c.flags & SC_SERIALIZABLE != 0 {
                for &code in &c.fields {
                    match width(code)? {
                        0 => self.content()?,
                        w => self.r.take(w).map(|_| ())?,
                    }
                }
            }
            if c.flags & SC_WRITE_METHOD != 0 {
                self.annotation()?;
            }
        }
        Some(())
    }
}

/// Bytes of a primitive field; 0 for an object or array; `None` for no
/// type code at all.
fn width(code: u8) -> Option<usize> {
    Some(match code {
        b'B' | b'Z' => 1,
        b'C' | b'S' => 2,
        b'I' | b'F' => 4,
        b'J' | b'D' => 8,
        b'L' | b'[' => 0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip(bytes: &[u8]) -> Option<usize> {
        let mut r = Reader {
            data: bytes,
            pos: 0,
        };
        skip_stream(&mut r).map(|_| r.pos)
    }

    #[test]
    fn an_object_with_a_byte_array_and_a_string() {
        // class "X" with fields `[B a` and `Ljava/lang/String; s`.
        let mut b = vec![0xAC, 0xED, 0, 5, TC_OBJECT, TC_CLASSDESC, 0, 1, b'X'];
        b.extend([0; 8]);
        b.extend([
            SC_SERIALIZABLE,
            0,
            2,
            b'[',
            0,
            1,
            b'a',
            TC_STRING,
            0,
            2,
            b'[',
            b'B',
        ]);
        b.extend([b'L', 0, 1, b's', TC_STRING, 0, 1, b'S']);
        b.extend([TC_ENDBLOCKDATA, TC_NULL]);
        // a = new byte[3] (a new class descriptor "[B"), s = "hi".
        b.extend([TC_ARRAY, TC_CLASSDESC, 0, 2, b'[', b'B']);
        b.extend([0; 8]);
        b.extend([
            SC_SERIALIZABLE,
            0,
            0,
            TC_ENDBLOCKDATA,
            TC_NULL,
            0,
            0,
            0,
            3,
            1,
            2,
            3,
        ]);
        b.extend([TC_STRING, 0, 2, b'h', b'i']);
        let end = b.len();
        b.extend([0xFF; 4]);
        assert_eq!(skip(&b), Some(end));
        // Truncated anywhere, or a bad reference: no answer, no panic.
        for n in 0..end {
            assert_eq!(skip(&b[..n]), None, "{n}");
        }
        let mut bad = b.clone();
        bad[4] = TC_REFERENCE;
        assert_eq!(skip(&bad), None);
    }

    #[test]
    fn hostile_nesting_is_refused() {
        let mut b = vec![0xAC, 0xED, 0, 5];
        b.extend([TC_ENUM, TC_NULL].repeat(100));
        assert_eq!(skip(&b), None);
    }
}
