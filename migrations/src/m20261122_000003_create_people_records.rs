//! Units, qualification scales (seeded), people and their records, and position standards.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Localities {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
    LocalityCode,
    Name,
    NameFolded,
    Sector,
    Kind,
    ValidFrom,
    ValidUntil,
    Revision,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum Scales {
    Table,
    Code,
    Name,
    EnglishName,
}

#[derive(DeriveIden)]
enum ScaleLevels {
    Table,
    ScaleCode,
    Code,
    Rank,
    Name,
    EnglishName,
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
    FullName,
    NameFolded,
    BirthDate,
    Gender,
    Ethnicity,
    Category,
    EmployedFrom,
    EmployedUntil,
    EndReason,
    Revision,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum Placements {
    Table,
    Id,
    PersonId,
    UnitId,
    PostTitle,
    PostTitleFolded,
    IsLeader,
    IsKeyPost,
    ValidFrom,
    ValidUntil,
    Revision,
}

#[derive(DeriveIden)]
enum Qualifications {
    Table,
    Id,
    PersonId,
    ScaleCode,
    LevelCode,
    FieldOfStudy,
    Institution,
    AwardedOn,
    Revision,
}

#[derive(DeriveIden)]
enum Evaluations {
    Table,
    PersonId,
    Year,
    Rating,
    Revision,
}

#[derive(DeriveIden)]
enum Disciplines {
    Table,
    Id,
    PersonId,
    Sanction,
    DecidedOn,
    DecisionNumber,
    Reason,
    Revision,
}

#[derive(DeriveIden)]
enum Standards {
    Table,
    Id,
    Name,
    Tier,
    Category,
    Leadership,
    PostTitle,
    PostTitleFolded,
    EffectiveFrom,
    EffectiveUntil,
    LegalBasis,
    Revision,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum StandardMinimums {
    Table,
    StandardId,
    ScaleCode,
    LevelCode,
}

fn id<T: IntoIden>(column: T) -> ColumnDef {
    ColumnDef::new(column).big_integer().not_null().auto_increment().primary_key().to_owned()
}

fn revision<T: IntoIden>(column: T) -> ColumnDef {
    ColumnDef::new(column).big_integer().not_null().default(1).to_owned()
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    cascade: bool,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(if cascade { ForeignKeyAction::Cascade } else { ForeignKeyAction::Restrict })
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column);
    }
    manager.create_index(index.to_owned()).await
}

/// A seeded level: code, rank, Vietnamese label, English label.
type SeedLevel = (&'static str, i32, &'static str, &'static str);

/// The seeded scales: code, Vietnamese name, English name, levels. Equal ranks are
/// equivalent levels.
const SCALES: &[(&str, &str, &str, &[SeedLevel])] = &[
    (
        "professional",
        "Trình độ chuyên môn",
        "Professional qualification",
        &[
            ("doctorate", 70, "Tiến sĩ", "Doctorate"),
            ("medical_specialist_2", 70, "Bác sĩ chuyên khoa II", "Medical specialist level II"),
            ("master", 60, "Thạc sĩ", "Master's degree"),
            ("medical_specialist_1", 60, "Bác sĩ chuyên khoa I", "Medical specialist level I"),
            ("university", 50, "Đại học", "University degree"),
            ("college", 40, "Cao đẳng", "College"),
            ("intermediate", 30, "Trung cấp", "Intermediate vocational"),
            ("elementary", 20, "Sơ cấp", "Elementary vocational"),
            ("untrained", 10, "Chưa qua đào tạo", "Untrained"),
        ],
    ),
    (
        "political_theory",
        "Lý luận chính trị",
        "Political theory",
        &[
            ("advanced", 40, "Cao cấp", "Advanced"),
            ("bachelor", 40, "Cử nhân", "Bachelor of political theory"),
            ("intermediate", 30, "Trung cấp", "Intermediate"),
            ("elementary", 20, "Sơ cấp", "Elementary"),
            ("none", 10, "Chưa qua đào tạo", "None"),
        ],
    ),
    (
        "state_management",
        "Quản lý nhà nước",
        "State management",
        &[
            ("senior_principal_specialist", 50, "Chuyên viên cao cấp", "Senior principal specialist"),
            ("principal_specialist", 40, "Chuyên viên chính", "Principal specialist"),
            ("specialist", 30, "Chuyên viên", "Specialist"),
            ("officer", 20, "Cán sự", "Officer"),
            ("none", 10, "Chưa qua bồi dưỡng", "None"),
        ],
    ),
    (
        "it",
        "Tin học",
        "Information technology",
        &[
            ("advanced", 30, "Ứng dụng công nghệ thông tin nâng cao", "Advanced IT skills"),
            ("basic", 20, "Ứng dụng công nghệ thông tin cơ bản", "Basic IT skills"),
            ("none", 10, "Chưa có chứng chỉ", "None"),
        ],
    ),
    (
        "foreign_language",
        "Ngoại ngữ",
        "Foreign language",
        &[
            ("level_6", 60, "Bậc 6 (C2)", "Level 6 (C2)"),
            ("level_5", 50, "Bậc 5 (C1)", "Level 5 (C1)"),
            ("level_4", 40, "Bậc 4 (B2)", "Level 4 (B2)"),
            ("level_3", 30, "Bậc 3 (B1)", "Level 3 (B1)"),
            ("level_2", 20, "Bậc 2 (A2)", "Level 2 (A2)"),
            ("level_1", 10, "Bậc 1 (A1)", "Level 1 (A1)"),
            ("none", 0, "Chưa có chứng chỉ", "None"),
        ],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Units::Table)
                    .col(id(Units::Id))
                    .col(ColumnDef::new(Units::LocalityCode).string_len(5).not_null())
                    .col(ColumnDef::new(Units::Name).string_len(300).not_null())
                    .col(ColumnDef::new(Units::NameFolded).string_len(300).not_null())
                    .col(ColumnDef::new(Units::Sector).string_len(32).not_null())
                    .col(ColumnDef::new(Units::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Units::ValidFrom).date().not_null())
                    .col(ColumnDef::new(Units::ValidUntil).date().null())
                    .col(revision(Units::Revision))
                    .col(ColumnDef::new(Units::CreateTime).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Units::UpdateTime).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut fk(
                        "fk_units_locality",
                        (Units::Table, Units::LocalityCode),
                        (Localities::Table, Localities::Code),
                        false,
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_units_locality", Units::Table, vec![Units::LocalityCode.into_iden()]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Scales::Table)
                    .col(ColumnDef::new(Scales::Code).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(Scales::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Scales::EnglishName).string_len(200).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScaleLevels::Table)
                    .col(ColumnDef::new(ScaleLevels::ScaleCode).string_len(64).not_null())
                    .col(ColumnDef::new(ScaleLevels::Code).string_len(64).not_null())
                    .col(ColumnDef::new(ScaleLevels::Rank).integer().not_null())
                    .col(ColumnDef::new(ScaleLevels::Name).string_len(200).not_null())
                    .col(ColumnDef::new(ScaleLevels::EnglishName).string_len(200).not_null())
                    .primary_key(Index::create().col(ScaleLevels::ScaleCode).col(ScaleLevels::Code))
                    .foreign_key(&mut fk(
                        "fk_scale_levels_scale",
                        (ScaleLevels::Table, ScaleLevels::ScaleCode),
                        (Scales::Table, Scales::Code),
                        true,
                    ))
                    .to_owned(),
            )
            .await?;
        for (code, name, english, levels) in SCALES {
            manager
                .exec_stmt(
                    Query::insert()
                        .into_table(Scales::Table)
                        .columns([Scales::Code, Scales::Name, Scales::EnglishName])
                        .values_panic([(*code).into(), (*name).into(), (*english).into()])
                        .to_owned(),
                )
                .await?;
            for (level, rank, level_name, level_english) in *levels {
                manager
                    .exec_stmt(
                        Query::insert()
                            .into_table(ScaleLevels::Table)
                            .columns([
                                ScaleLevels::ScaleCode,
                                ScaleLevels::Code,
                                ScaleLevels::Rank,
                                ScaleLevels::Name,
                                ScaleLevels::EnglishName,
                            ])
                            .values_panic([
                                (*code).into(),
                                (*level).into(),
                                (*rank).into(),
                                (*level_name).into(),
                                (*level_english).into(),
                            ])
                            .to_owned(),
                    )
                    .await?;
            }
        }

        manager
            .create_table(
                Table::create()
                    .table(People::Table)
                    .col(id(People::Id))
                    .col(ColumnDef::new(People::FullName).string_len(200).not_null())
                    .col(ColumnDef::new(People::NameFolded).string_len(200).not_null())
                    .col(ColumnDef::new(People::BirthDate).date().not_null())
                    .col(ColumnDef::new(People::Gender).string_len(16).not_null())
                    .col(ColumnDef::new(People::Ethnicity).string_len(64).not_null())
                    .col(ColumnDef::new(People::Category).string_len(32).not_null())
                    .col(ColumnDef::new(People::EmployedFrom).date().not_null())
                    .col(ColumnDef::new(People::EmployedUntil).date().null())
                    .col(ColumnDef::new(People::EndReason).string_len(16).null())
                    .col(revision(People::Revision))
                    .col(ColumnDef::new(People::CreateTime).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(People::UpdateTime).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Placements::Table)
                    .col(id(Placements::Id))
                    .col(ColumnDef::new(Placements::PersonId).big_integer().not_null())
                    .col(ColumnDef::new(Placements::UnitId).big_integer().not_null())
                    .col(ColumnDef::new(Placements::PostTitle).string_len(200).not_null())
                    .col(ColumnDef::new(Placements::PostTitleFolded).string_len(200).not_null())
                    .col(ColumnDef::new(Placements::IsLeader).boolean().not_null())
                    .col(ColumnDef::new(Placements::IsKeyPost).boolean().not_null())
                    .col(ColumnDef::new(Placements::ValidFrom).date().not_null())
                    .col(ColumnDef::new(Placements::ValidUntil).date().null())
                    .col(revision(Placements::Revision))
                    .foreign_key(&mut fk(
                        "fk_placements_person",
                        (Placements::Table, Placements::PersonId),
                        (People::Table, People::Id),
                        true,
                    ))
                    .foreign_key(&mut fk(
                        "fk_placements_unit",
                        (Placements::Table, Placements::UnitId),
                        (Units::Table, Units::Id),
                        false,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_placements_person",
            Placements::Table,
            vec![Placements::PersonId.into_iden(), Placements::ValidFrom.into_iden()],
        )
        .await?;
        index(
            manager,
            "ix_placements_unit",
            Placements::Table,
            vec![Placements::UnitId.into_iden(), Placements::ValidFrom.into_iden()],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Qualifications::Table)
                    .col(id(Qualifications::Id))
                    .col(ColumnDef::new(Qualifications::PersonId).big_integer().not_null())
                    .col(ColumnDef::new(Qualifications::ScaleCode).string_len(64).not_null())
                    .col(ColumnDef::new(Qualifications::LevelCode).string_len(64).not_null())
                    .col(ColumnDef::new(Qualifications::FieldOfStudy).string_len(200).not_null())
                    .col(ColumnDef::new(Qualifications::Institution).string_len(200).not_null())
                    .col(ColumnDef::new(Qualifications::AwardedOn).date().not_null())
                    .col(revision(Qualifications::Revision))
                    .foreign_key(&mut fk(
                        "fk_qualifications_person",
                        (Qualifications::Table, Qualifications::PersonId),
                        (People::Table, People::Id),
                        true,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_qualifications_level")
                            .from(Qualifications::Table, (Qualifications::ScaleCode, Qualifications::LevelCode))
                            .to(ScaleLevels::Table, (ScaleLevels::ScaleCode, ScaleLevels::Code))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_qualifications_person",
            Qualifications::Table,
            vec![Qualifications::PersonId.into_iden(), Qualifications::ScaleCode.into_iden()],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Evaluations::Table)
                    .col(ColumnDef::new(Evaluations::PersonId).big_integer().not_null())
                    .col(ColumnDef::new(Evaluations::Year).integer().not_null())
                    .col(ColumnDef::new(Evaluations::Rating).string_len(16).not_null())
                    .col(revision(Evaluations::Revision))
                    .primary_key(Index::create().col(Evaluations::PersonId).col(Evaluations::Year))
                    .foreign_key(&mut fk(
                        "fk_evaluations_person",
                        (Evaluations::Table, Evaluations::PersonId),
                        (People::Table, People::Id),
                        true,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Disciplines::Table)
                    .col(id(Disciplines::Id))
                    .col(ColumnDef::new(Disciplines::PersonId).big_integer().not_null())
                    .col(ColumnDef::new(Disciplines::Sanction).string_len(32).not_null())
                    .col(ColumnDef::new(Disciplines::DecidedOn).date().not_null())
                    .col(ColumnDef::new(Disciplines::DecisionNumber).string_len(100).not_null())
                    .col(ColumnDef::new(Disciplines::Reason).text().not_null())
                    .col(revision(Disciplines::Revision))
                    .foreign_key(&mut fk(
                        "fk_disciplines_person",
                        (Disciplines::Table, Disciplines::PersonId),
                        (People::Table, People::Id),
                        true,
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_disciplines_person", Disciplines::Table, vec![Disciplines::PersonId.into_iden()]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Standards::Table)
                    .col(id(Standards::Id))
                    .col(ColumnDef::new(Standards::Name).string_len(300).not_null())
                    .col(ColumnDef::new(Standards::Tier).string_len(16).null())
                    .col(ColumnDef::new(Standards::Category).string_len(32).null())
                    .col(ColumnDef::new(Standards::Leadership).string_len(16).null())
                    .col(ColumnDef::new(Standards::PostTitle).string_len(200).null())
                    .col(ColumnDef::new(Standards::PostTitleFolded).string_len(200).null())
                    .col(ColumnDef::new(Standards::EffectiveFrom).date().not_null())
                    .col(ColumnDef::new(Standards::EffectiveUntil).date().null())
                    .col(ColumnDef::new(Standards::LegalBasis).string_len(500).not_null())
                    .col(revision(Standards::Revision))
                    .col(ColumnDef::new(Standards::CreateTime).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Standards::UpdateTime).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StandardMinimums::Table)
                    .col(ColumnDef::new(StandardMinimums::StandardId).big_integer().not_null())
                    .col(ColumnDef::new(StandardMinimums::ScaleCode).string_len(64).not_null())
                    .col(ColumnDef::new(StandardMinimums::LevelCode).string_len(64).not_null())
                    .primary_key(Index::create().col(StandardMinimums::StandardId).col(StandardMinimums::ScaleCode))
                    .foreign_key(&mut fk(
                        "fk_standard_minimums_standard",
                        (StandardMinimums::Table, StandardMinimums::StandardId),
                        (Standards::Table, Standards::Id),
                        true,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_standard_minimums_level")
                            .from(StandardMinimums::Table, (StandardMinimums::ScaleCode, StandardMinimums::LevelCode))
                            .to(ScaleLevels::Table, (ScaleLevels::ScaleCode, ScaleLevels::Code))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StandardMinimums::Table.into_iden(),
            Standards::Table.into_iden(),
            Disciplines::Table.into_iden(),
            Evaluations::Table.into_iden(),
            Qualifications::Table.into_iden(),
            Placements::Table.into_iden(),
            People::Table.into_iden(),
            ScaleLevels::Table.into_iden(),
            Scales::Table.into_iden(),
            Units::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
