//! What a write answers to a caller who may not read personal data.
//!
//! An editor changes records without necessarily holding the `personal_data_reader`
//! role, and a write's response must not show it what a read would refuse: the
//! person-level messages below keep, for such a caller, their resource name, their
//! etag (so that the next update can be made) and the fields that say nothing about
//! the person (dates of the record itself, the pool's own settings); every other field
//! is left at its default. The rule is documented on each message and RPC in the
//! proto. Every write handler that answers one of these messages passes it through
//! [`for_caller`], fresh or replayed alike.

use crate::{
    context::{Principal, Role},
    grpc::pb,
};

/// A message that carries person-level data, and what of it anyone may see.
pub trait Redact {
    /// The message without its person-level fields.
    #[must_use]
    fn redacted(self) -> Self;
}

/// `value` as `principal` may read it: whole for a holder of the personal-data role,
/// [`Redact::redacted`] for anyone else.
pub fn for_caller<T: Redact>(principal: &Principal, value: T) -> T {
    if principal.has_role(Role::PersonalDataReader) { value } else { value.redacted() }
}

impl<T: Redact> Redact for Option<T> {
    fn redacted(self) -> Self {
        self.map(Redact::redacted)
    }
}

impl<T: Redact> Redact for Vec<T> {
    fn redacted(self) -> Self {
        self.into_iter().map(Redact::redacted).collect()
    }
}

impl Redact for pb::Person {
    fn redacted(self) -> Self {
        let pb::Person { name, etag, as_of, create_time, update_time, .. } = self;
        Self { name, etag, as_of, create_time, update_time, ..Self::default() }
    }
}

impl Redact for pb::Placement {
    fn redacted(self) -> Self {
        let pb::Placement { name, etag, .. } = self;
        Self { name, etag, ..Self::default() }
    }
}

impl Redact for pb::Qualification {
    fn redacted(self) -> Self {
        let pb::Qualification { name, etag, .. } = self;
        Self { name, etag, ..Self::default() }
    }
}

impl Redact for pb::Evaluation {
    fn redacted(self) -> Self {
        let pb::Evaluation { name, etag, .. } = self;
        Self { name, etag, ..Self::default() }
    }
}

impl Redact for pb::Discipline {
    fn redacted(self) -> Self {
        let pb::Discipline { name, etag, .. } = self;
        Self { name, etag, ..Self::default() }
    }
}

impl Redact for pb::Enrollment {
    fn redacted(self) -> Self {
        let pb::Enrollment { name, etag, .. } = self;
        Self { name, etag, ..Self::default() }
    }
}

impl Redact for pb::Rotation {
    fn redacted(self) -> Self {
        let pb::Rotation { name, etag, create_time, update_time, .. } = self;
        Self { name, etag, create_time, update_time, ..Self::default() }
    }
}

/// A pool's own settings and its candidate count are not about anyone; its
/// candidates are.
impl Redact for pb::SuccessionPool {
    fn redacted(self) -> Self {
        Self { candidates: Vec::new(), ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Scope;

    fn person() -> pb::Person {
        pb::Person {
            name: "people/7".into(),
            full_name: "Nguyễn Thị Lan".into(),
            birth_date: Some(pb::Date { year: 1985, month: 3, day: 14 }),
            gender: pb::Gender::Female.into(),
            ethnicity: "Tày".into(),
            personal_id: "001185000001".into(),
            placement: Some(pb::Placement { name: "people/7/placements/1".into(), ..Default::default() }),
            etag: "\"3\"".into(),
            ..Default::default()
        }
    }

    fn caller(roles: &[Role]) -> Principal {
        Principal { roles: roles.iter().copied().collect(), scope: Scope::National, ..Principal::development() }
    }

    #[test]
    fn an_editor_without_the_personal_data_role_gets_the_name_and_etag_only() {
        let seen = for_caller(&caller(&[Role::Editor]), person());
        assert_eq!(seen, pb::Person { name: "people/7".into(), etag: "\"3\"".into(), ..Default::default() });
    }

    #[test]
    fn a_personal_data_reader_gets_the_whole_person() {
        assert_eq!(for_caller(&caller(&[Role::Editor, Role::PersonalDataReader]), person()), person());
    }

    #[test]
    fn a_pool_keeps_its_settings_and_loses_its_candidates() {
        let pool = pb::SuccessionPool {
            name: "successionPools/3".into(),
            post_title: "Chủ tịch".into(),
            candidate_count: 1,
            candidates: vec![pb::Candidate { person: "people/7".into(), ..Default::default() }],
            ..Default::default()
        };
        let seen = pool.clone().redacted();
        assert!(seen.candidates.is_empty());
        assert_eq!(seen, pb::SuccessionPool { candidates: Vec::new(), ..pool });
    }
}
