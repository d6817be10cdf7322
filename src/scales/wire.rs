//! ScaleService's messages to and from the feature's types. Each request is taken
//! apart field by field (no `..`), so a field added to the proto does not compile
//! until it is handled here.

use super::rules::{LevelRecord, ScaleRecord, label, scale_name};
use crate::{
    edge::{
        Violations,
        names::{LevelName, ScaleName, snake_code},
    },
    error::{Error, Result},
    grpc::pb,
};

impl From<&LevelRecord> for pb::Level {
    fn from(record: &LevelRecord) -> Self {
        pb::Level {
            name: record.name(),
            rank: record.rank,
            display_name: record.display_name.clone(),
            english_name: record.english_name.clone(),
        }
    }
}

impl From<&ScaleRecord> for pb::Scale {
    fn from(record: &ScaleRecord) -> Self {
        pb::Scale {
            name: scale_name(&record.code),
            display_name: record.display_name.clone(),
            english_name: record.english_name.clone(),
            levels: record.levels.iter().map(Into::into).collect(),
        }
    }
}

/// The wire form of a scale with its levels.
pub fn scale_to_pb(record: &ScaleRecord) -> pb::Scale {
    record.into()
}

/// The rank and labels of a level from the wire, checked into `v` under `level.`
/// (its name is the caller's to check).
fn level_values(v: &mut Violations, level: pb::Level) -> (String, Option<(i32, String, String)>) {
    let pb::Level { name, rank, display_name, english_name } = level;
    let display_name = v.check("level.display_name", label(&display_name));
    let english_name = v.check("level.english_name", label(&english_name));
    (name, display_name.zip(english_name).map(|(d, e)| (rank, d, e)))
}

/// A checked GetScale request.
#[derive(Debug, Clone)]
pub struct GetScale {
    /// The scale.
    pub name: ScaleName,
}

impl TryFrom<pb::GetScaleRequest> for GetScale {
    type Error = Error;

    fn try_from(request: pb::GetScaleRequest) -> Result<Self> {
        let pb::GetScaleRequest { name } = request;
        let mut v = Violations::new();
        let name = v.check("name", ScaleName::parse(&name));
        v.into_result(|| Some(Self { name: name? }))
    }
}

/// A checked CreateLevel or UpdateLevel request: the level as it is to be.
#[derive(Debug, Clone)]
pub struct LevelWrite {
    /// The level.
    pub level: LevelRecord,
}

impl TryFrom<pb::CreateLevelRequest> for LevelWrite {
    type Error = Error;

    fn try_from(request: pb::CreateLevelRequest) -> Result<Self> {
        let pb::CreateLevelRequest { parent, level_id, level } = request;
        let mut v = Violations::new();
        let scale = v.check("parent", ScaleName::parse(&parent));
        let code = v.check("level_id", snake_code(&level_id));
        // The name is output only on create (AIP-133).
        let values = match level {
            Some(level) => level_values(&mut v, level).1,
            None => {
                v.add("level", "is required");
                None
            }
        };
        v.into_result(|| {
            let (rank, display_name, english_name) = values?;
            Some(Self { level: LevelRecord { scale: scale?.0, code: code?, rank, display_name, english_name } })
        })
    }
}

impl TryFrom<pb::UpdateLevelRequest> for LevelWrite {
    type Error = Error;

    fn try_from(request: pb::UpdateLevelRequest) -> Result<Self> {
        let pb::UpdateLevelRequest { level } = request;
        let Some(level) = level else { return Err(Error::invalid("level", "is required")) };
        let mut v = Violations::new();
        let name = v.check("level.name", LevelName::parse(&level.name));
        let (_, values) = level_values(&mut v, level);
        v.into_result(|| {
            let (LevelName { scale, level: code }, (rank, display_name, english_name)) = (name?, values?);
            Some(Self { level: LevelRecord { scale, code, rank, display_name, english_name } })
        })
    }
}
