//! Input hygiene for every request, checked against the descriptor set rather than per
//! RPC, so that a new RPC or field is covered without a line of code:
//!
//! - no string holds a control character: C0 (U+0000 to U+001F) except tab, line feed
//!   and carriage return, DEL (U+007F), or C1 (U+0080 to U+009F). PostgreSQL refuses
//!   NUL in text while SQLite stores it, so without this check the two backends
//!   disagree; the others have no place in names, codes or free text and hide what a
//!   record says from the people who read it;
//! - no repeated field has more than [`MAX_ENTRIES`] entries (a report filter of
//!   100,000 localities would otherwise reach the database as 100,000 SQL variables),
//!   except the fields of [`LARGER_BOUNDS`], which legitimately carry more.
//!
//! The walk reads the request's encoded bytes once, after prost has decoded them (so
//! they are well formed), guided by an index of the descriptor set built once. It
//! allocates nothing unless it finds a violation.

use std::{collections::HashMap, fmt::Write as _, sync::OnceLock};

use prost::Message as _;
use prost_types::{DescriptorProto, FileDescriptorSet, field_descriptor_proto::Label, field_descriptor_proto::Type};

use super::FILE_DESCRIPTOR_SET;
use crate::error::Violation;

/// The most entries a repeated field of a request may have, unless [`LARGER_BOUNDS`]
/// says otherwise. It matches the largest page (1,000) and the largest batch of
/// BatchCreateEnrollments (1,000); streamed imports carry one record per message.
pub const MAX_ENTRIES: u32 = 1_000;

/// Requests whose repeated fields may carry more than [`MAX_ENTRIES`] entries: a
/// national Reorganize ends and creates thousands of communes at once (the 2025
/// reform merged about 10,000 communes into 3,300).
pub const LARGER_BOUNDS: &[(&str, u32)] = &[("hrplan.v1.ReorganizeRequest", 20_000)];

/// The most violations one answer names: a request with a bad value in each of
/// thousands of entries gets the first few, not a megabyte of trailers.
pub const MAX_VIOLATIONS: usize = 10;

/// Repeated fields of one message whose entries are counted (no request comes close;
/// a test checks every request type).
const COUNTED_SLOTS: usize = 16;

/// Nesting deeper than this is not walked (prost refuses deeper than 100 anyway).
const MAX_DEPTH: u32 = 100;

/// The descriptor set, indexed for the walk.
#[derive(Debug)]
pub struct Index {
    messages: Vec<MessagePlan>,
    /// Method input types by package, then by name within the package.
    requests: HashMap<String, HashMap<String, usize>>,
}

#[derive(Debug)]
struct MessagePlan {
    full_name: String,
    /// Sorted by field number.
    fields: Vec<FieldPlan>,
}

#[derive(Debug)]
struct FieldPlan {
    number: u32,
    name: String,
    kind: Kind,
    /// Ordinal among the repeated fields of the message, for counting entries.
    slot: Option<usize>,
    bound: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Message(usize),
    Varint,
    Fixed32,
    Fixed64,
    Other,
}

/// A request type, as the index knows it.
#[derive(Debug, Clone, Copy)]
pub struct RequestPlan {
    index: &'static Index,
    message: usize,
}

static INDEX: OnceLock<Index> = OnceLock::new();

impl Index {
    /// The index of hrplan's descriptor set, built on first use.
    pub fn get() -> &'static Index {
        INDEX.get_or_init(|| match FileDescriptorSet::decode(FILE_DESCRIPTOR_SET) {
            Ok(set) => Index::build(&set),
            Err(error) => {
                // Compiled into the binary by build.rs; a test proves it decodes.
                tracing::error!(%error, "the descriptor set does not decode: requests are not inspected");
                Index::build(&FileDescriptorSet::default())
            }
        })
    }

    /// The plan of the message `package.name` when it is the input of a method.
    pub fn request(&'static self, package: &str, name: &str) -> Option<RequestPlan> {
        let message = *self.requests.get(package)?.get(name)?;
        Some(RequestPlan { index: self, message })
    }

    /// Full names of every method input type, sorted.
    pub fn request_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .requests
            .values()
            .flat_map(|by_name| by_name.values().map(|&m| self.messages[m].full_name.clone()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn build(set: &FileDescriptorSet) -> Self {
        type Found<'a> = (String, String, &'a DescriptorProto);
        fn collect<'a>(prefix: &str, package: &str, message: &'a DescriptorProto, out: &mut Vec<Found<'a>>) {
            let full_name = format!("{prefix}.{}", message.name());
            for nested in &message.nested_type {
                collect(&full_name, package, nested, out);
            }
            out.push((full_name, package.to_owned(), message));
        }
        let mut all = Vec::new();
        for file in &set.file {
            let prefix = if file.package().is_empty() { String::new() } else { format!(".{}", file.package()) };
            for message in &file.message_type {
                collect(&prefix, file.package(), message, &mut all);
            }
        }
        let by_name: HashMap<&str, usize> =
            all.iter().enumerate().map(|(i, (name, _, _))| (name.as_str(), i)).collect();
        let messages = all
            .iter()
            .map(|(full_name, _, message)| {
                let full_name = full_name.trim_start_matches('.').to_owned();
                let bound = LARGER_BOUNDS.iter().find(|(name, _)| *name == full_name).map_or(MAX_ENTRIES, |b| b.1);
                let mut slots = 0;
                let mut fields: Vec<FieldPlan> = message
                    .field
                    .iter()
                    .filter_map(|field| {
                        let number = u32::try_from(field.number()).ok()?;
                        let kind = match field.r#type() {
                            Type::String => Kind::String,
                            Type::Message | Type::Group => {
                                by_name.get(field.type_name()).map_or(Kind::Other, |&i| Kind::Message(i))
                            }
                            Type::Bool
                            | Type::Int32
                            | Type::Int64
                            | Type::Uint32
                            | Type::Uint64
                            | Type::Sint32
                            | Type::Sint64
                            | Type::Enum => Kind::Varint,
                            Type::Fixed32 | Type::Sfixed32 | Type::Float => Kind::Fixed32,
                            Type::Fixed64 | Type::Sfixed64 | Type::Double => Kind::Fixed64,
                            Type::Bytes => Kind::Other,
                        };
                        let slot = (field.label() == Label::Repeated).then(|| {
                            slots += 1;
                            slots - 1
                        });
                        Some(FieldPlan { number, name: field.name().to_owned(), kind, slot, bound })
                    })
                    .collect();
                fields.sort_by_key(|f| f.number);
                MessagePlan { full_name, fields }
            })
            .collect();
        let mut requests: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for method in set.file.iter().flat_map(|f| &f.service).flat_map(|s| &s.method) {
            let Some(&message) = by_name.get(method.input_type()) else { continue };
            // prost's `Name` keeps the package and the name within it apart.
            let (_, package, _) = &all[message];
            let name = method.input_type().trim_start_matches('.').strip_prefix(package.as_str());
            let name = name.map_or(method.input_type(), |n| n.trim_start_matches('.'));
            requests.entry(package.clone()).or_default().insert(name.to_owned(), message);
        }
        Self { messages, requests }
    }
}

/// Checks the encoded request `bytes` (already decoded by prost, so well formed):
/// every violation found, at most [`MAX_VIOLATIONS`], or none.
pub fn check(plan: RequestPlan, bytes: &[u8]) -> Result<(), Vec<Violation>> {
    let mut walk = Walk { index: plan.index, violations: Vec::new() };
    walk.message(plan.message, bytes, None, 0);
    if walk.violations.is_empty() { Ok(()) } else { Err(walk.violations) }
}

/// A field path kept on the stack while walking, rendered only for a violation.
#[derive(Clone, Copy)]
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    field: &'a str,
    entry: Option<u32>,
}

impl Path<'_> {
    fn render(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.render(out);
            out.push('.');
        }
        out.push_str(self.field);
        if let Some(entry) = self.entry {
            let _ = write!(out, "[{entry}]");
        }
    }

    fn rendered(&self) -> String {
        let mut out = String::new();
        self.render(&mut out);
        out
    }
}

struct Walk {
    index: &'static Index,
    violations: Vec<Violation>,
}

impl Walk {
    /// Walks one message; `None` stops the whole walk (enough violations, or bytes
    /// the walk does not follow).
    fn message(&mut self, message: usize, mut bytes: &[u8], path: Option<&Path<'_>>, depth: u32) -> Option<()> {
        let plan = self.index.messages.get(message)?;
        let mut counts = [0u32; COUNTED_SLOTS];
        while !bytes.is_empty() {
            if self.violations.len() >= MAX_VIOLATIONS {
                return None;
            }
            let key = varint(&mut bytes)?;
            let number = u32::try_from(key >> 3).ok()?;
            let mut payload = None;
            match key & 7 {
                0 => {
                    varint(&mut bytes)?;
                }
                1 => bytes = bytes.get(8..)?,
                5 => bytes = bytes.get(4..)?,
                2 => {
                    let len = usize::try_from(varint(&mut bytes)?).ok()?;
                    let (value, rest) = (bytes.get(..len)?, bytes.get(len..)?);
                    payload = Some(value);
                    bytes = rest;
                }
                3 => {
                    skip_group(&mut bytes, number, depth)?;
                    continue;
                }
                _ => return None,
            }
            let Ok(found) = plan.fields.binary_search_by_key(&number, |f| f.number) else { continue };
            let field = &plan.fields[found];
            let mut entry = None;
            if let Some(count) = field.slot.and_then(|slot| counts.get_mut(slot)) {
                let entries = match (field.kind, payload) {
                    // A packed run of scalars.
                    (Kind::Varint, Some(run)) => run.iter().filter(|b| **b < 0x80).count(),
                    (Kind::Fixed32, Some(run)) => run.len() / 4,
                    (Kind::Fixed64, Some(run)) => run.len() / 8,
                    _ => 1,
                };
                let before = *count;
                *count = count.saturating_add(u32::try_from(entries).unwrap_or(u32::MAX));
                if *count > field.bound {
                    if before <= field.bound {
                        let at = Path { parent: path, field: &field.name, entry: None };
                        self.violations.push(Violation::new(
                            at.rendered(),
                            format!("has more than {} entries; split the request", field.bound),
                        ));
                    }
                    continue;
                }
                entry = Some(before);
            }
            match (field.kind, payload) {
                (Kind::String, Some(text)) => {
                    if let Some(control) = control_character(text) {
                        let at = Path { parent: path, field: &field.name, entry };
                        self.violations.push(Violation::new(
                            at.rendered(),
                            format!(
                                "contains the control character U+{:04X}; text may hold tabs and line breaks but no other control characters",
                                u32::from(control)
                            ),
                        ));
                    }
                }
                (Kind::Message(inner), Some(body)) if depth < MAX_DEPTH => {
                    let at = Path { parent: path, field: &field.name, entry };
                    self.message(inner, body, Some(&at), depth + 1)?;
                }
                _ => {}
            }
        }
        Some(())
    }
}

/// The first control character in UTF-8 `text` (C0 but tab, LF and CR; DEL; C1).
pub fn control_character(text: &[u8]) -> Option<char> {
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'\t' | b'\n' | b'\r' => {}
            0x00..=0x1f | 0x7f => return Some(char::from(b)),
            // U+0080 to U+009F are encoded C2 80 to C2 9F.
            0xc2 => {
                if let Some(&next @ 0x80..=0x9f) = text.get(i + 1) {
                    return char::from_u32(u32::from(next));
                }
            }
            _ => {}
        }
    }
    None
}

fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

/// Skips a (proto2) group up to its end tag.
fn skip_group(bytes: &mut &[u8], number: u32, depth: u32) -> Option<()> {
    if depth >= MAX_DEPTH {
        return None;
    }
    loop {
        let key = varint(bytes)?;
        let inner = u32::try_from(key >> 3).ok()?;
        match key & 7 {
            0 => {
                varint(bytes)?;
            }
            1 => *bytes = bytes.get(8..)?,
            5 => *bytes = bytes.get(4..)?,
            2 => {
                let len = usize::try_from(varint(bytes)?).ok()?;
                *bytes = bytes.get(len..)?;
            }
            3 => skip_group(bytes, inner, depth + 1)?,
            4 if inner == number => return Some(()),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grpc::pb;

    fn violations<M: prost::Message + prost::Name>(message: &M) -> Vec<(String, String)> {
        let plan = Index::get().request(M::PACKAGE, M::NAME).expect("a request type");
        match check(plan, &message.encode_to_vec()) {
            Ok(()) => Vec::new(),
            Err(v) => v.into_iter().map(|v| (v.field, v.description)).collect(),
        }
    }

    #[test]
    fn every_method_input_of_the_descriptor_set_is_indexed() {
        let index = Index::get();
        let names = index.request_names();
        assert!(names.len() > 80, "only {} request types", names.len());
        assert!(names.contains(&"hrplan.v1.CreatePersonRequest".to_owned()));
        for name in &names {
            let plan = index.messages.iter().find(|m| &m.full_name == name).expect("indexed");
            let repeated = plan.fields.iter().filter(|f| f.slot.is_some()).count();
            assert!(repeated <= COUNTED_SLOTS, "{name} has {repeated} repeated fields");
        }
    }

    #[test]
    fn control_characters_are_found_and_printable_text_passes() {
        for bad in ["a\0b", "\u{1}", "x\u{1b}[31m", "del\u{7f}", "c1\u{85}", "\u{9f}"] {
            assert!(control_character(bad.as_bytes()).is_some(), "{bad:?}");
        }
        for good in ["Nguyễn Văn Á", "tab\there", "two\r\nlines", "", "\u{a0}non-breaking", "ÿ\u{100}"] {
            assert_eq!(control_character(good.as_bytes()), None, "{good:?}");
        }
    }

    #[test]
    fn a_nested_control_character_is_named_by_its_path() {
        let request = pb::CreatePersonRequest {
            record: Some(pb::PersonRecord {
                person: Some(pb::Person { full_name: "Lê\0Văn".into(), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let found = violations(&request);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "record.person.full_name");
        assert!(found[0].1.contains("U+0000"), "{}", found[0].1);
    }

    #[test]
    fn entries_of_repeated_fields_are_named_by_index_and_bounded() {
        let mut request = pb::ReorganizeRequest { endings: vec!["localities/001".into(); 3], ..Default::default() };
        request.endings[2] = "localities/\u{7}".into();
        assert_eq!(violations(&request)[0].0, "endings[2]");

        let big = pb::BatchCreateEnrollmentsRequest {
            requests: vec![pb::CreateEnrollmentRequest::default(); MAX_ENTRIES as usize + 1],
            ..Default::default()
        };
        let found = violations(&big);
        assert_eq!(found.iter().map(|v| v.0.as_str()).collect::<Vec<_>>(), ["requests"]);
        let fits = pb::BatchCreateEnrollmentsRequest {
            requests: vec![pb::CreateEnrollmentRequest::default(); MAX_ENTRIES as usize],
            ..Default::default()
        };
        assert!(violations(&fits).is_empty());
    }

    #[test]
    fn a_reorganisation_may_name_more_entries_than_other_requests() {
        let request = pb::ReorganizeRequest { endings: vec!["localities/00001".into(); 5_000], ..Default::default() };
        assert!(violations(&request).is_empty());
    }

    #[test]
    fn thousands_of_bad_values_get_a_bounded_answer() {
        let request = pb::ReorganizeRequest { endings: vec!["\0".into(); 5_000], ..Default::default() };
        assert_eq!(violations(&request).len(), MAX_VIOLATIONS);
    }
}
