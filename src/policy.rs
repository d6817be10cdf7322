//! The authorisation policy: the one place where roles and locality scope are checked
//! against what a request touches (a locality's subtree, a person as placed on a day,
//! a training plan by its owner).
//!
//! A resource outside the caller's scope is refused whether or not it exists, so that
//! refusals reveal nothing about other localities.

use std::collections::BTreeSet;

use sea_orm::ConnectionTrait;

use crate::{
    context::{Access, PersonAccess, Principal, Role, Scope},
    domain::locality::Code,
    error::{Error, Result},
};

/// Checks that the caller may have `access` to `code`'s subtree: the role first, then
/// the scope. A locality outside the scope is refused whether or not it exists, so
/// that refusals reveal nothing.
pub async fn authorize(conn: &impl ConnectionTrait, principal: &Principal, code: &Code, access: Access) -> Result<()> {
    require_access(principal, access)?;
    match &principal.scope {
        Scope::National => Ok(()),
        Scope::Localities(roots) => within_or_denied(code, crate::scope::is_within(conn, code, roots).await?),
    }
}

/// [`authorize`] with the scope graph at hand: `is_within(roots)` says whether `code`
/// lies within the scope of one of `roots` (as [`crate::scope::is_within`] does in SQL).
pub fn authorize_with(
    principal: &Principal,
    code: &Code,
    access: Access,
    is_within: impl FnOnce(&BTreeSet<Code>) -> bool,
) -> Result<()> {
    require_access(principal, access)?;
    match &principal.scope {
        Scope::National => Ok(()),
        Scope::Localities(roots) => within_or_denied(code, is_within(roots)),
    }
}

fn within_or_denied(code: &Code, within: bool) -> Result<()> {
    if within {
        Ok(())
    } else {
        Err(Error::PermissionDenied(format!("{} is outside the caller's locality scope", code.name())))
    }
}

/// Checks that the caller may have `access` to the whole country: the role, and a
/// national scope.
pub fn authorize_national(principal: &Principal, access: Access) -> Result<()> {
    require_access(principal, access)?;
    match &principal.scope {
        Scope::National => Ok(()),
        Scope::Localities(_) => {
            Err(Error::PermissionDenied("the whole country is outside the caller's locality scope".to_owned()))
        }
    }
}

/// Checks that the caller may have `access` to a person's records, as placed on `day`:
/// the role first, then the scope of the locality of the person's placement that day
/// (for writes, of their latest placement if none is in force that day). A person
/// who does not exist, or is placed nowhere, is outside every local scope.
pub async fn authorize_person(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    person_id: i64,
    day: chrono::NaiveDate,
    access: PersonAccess,
) -> Result<()> {
    match access {
        PersonAccess::ReadPersonal if !principal.has_role(Role::PersonalDataReader) => {
            return Err(Error::PermissionDenied(
                "reading personal data needs the personal_data_reader role".to_owned(),
            ));
        }
        PersonAccess::Write => require_access(principal, Access::Write)?,
        PersonAccess::ReadPersonal => {}
    }
    let Scope::Localities(roots) = &principal.scope else {
        return Ok(());
    };
    let locality = crate::scope::person_locality(conn, person_id, day, access == PersonAccess::Write).await?;
    match locality {
        Some(code) if crate::scope::is_within(conn, &code, roots).await? => Ok(()),
        _ => {
            Err(Error::PermissionDenied(format!("people/{person_id} is outside the caller's locality scope on {day}")))
        }
    }
}

/// Checks the caller's role for `access`, with no locality involved.
pub fn require_access(principal: &Principal, access: Access) -> Result<()> {
    let allowed = match access {
        Access::Read => !principal.roles.is_empty(),
        Access::Write => principal.has_role(Role::Editor),
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::PermissionDenied(match access {
            Access::Read => "the caller has no role".to_owned(),
            Access::Write => "changing records needs the editor role".to_owned(),
        }))
    }
}

/// Checks that the caller's scope is the whole country (needed to create provinces).
pub fn require_national(principal: &Principal, what: &str) -> Result<()> {
    require_access(principal, Access::Write)?;
    match principal.scope {
        Scope::National => Ok(()),
        Scope::Localities(_) => Err(Error::PermissionDenied(format!("{what} needs a national locality scope"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_decide_access() {
        let mut principal = Principal::development();
        principal.roles = [Role::AggregateReader].into_iter().collect();
        assert!(require_access(&principal, Access::Read).is_ok());
        assert!(matches!(require_access(&principal, Access::Write), Err(Error::PermissionDenied(_))));
        principal.roles.clear();
        assert!(require_access(&principal, Access::Read).is_err());
    }
}
