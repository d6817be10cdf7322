//! Training plans with their target lines, courses, and enrolments with their history.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Localities {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ScaleLevels {
    Table,
    ScaleCode,
    Code,
}

#[derive(DeriveIden)]
enum Qualifications {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TrainingPlans {
    Table,
    Id,
    Title,
    OwnerCode,
    PeriodStart,
    PeriodEnd,
    DocumentNumber,
    IssuedOn,
    Status,
    Revision,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum TargetLines {
    Table,
    PlanId,
    LineId,
    Position,
    Title,
    Kind,
    ScaleCode,
    LevelCode,
    Topic,
    AudienceTier,
    AudienceCategory,
    LeadersOnly,
    Target,
    BudgetVnd,
}

#[derive(DeriveIden)]
enum Courses {
    Table,
    Id,
    PlanId,
    LineId,
    Title,
    Provider,
    Location,
    StartDate,
    EndDate,
    Sessions,
    Revision,
}

#[derive(DeriveIden)]
enum Enrollments {
    Table,
    Id,
    PlanId,
    PersonId,
    LineId,
    CourseId,
    Status,
    EnrollmentDate,
    Grade,
    Distinction,
    QualificationId,
    Revision,
}

#[derive(DeriveIden)]
enum EnrollmentHistory {
    Table,
    EnrollmentId,
    Seq,
    Status,
    Date,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TrainingPlans::Table)
                    .col(ColumnDef::new(TrainingPlans::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(TrainingPlans::Title).string_len(300).not_null())
                    .col(ColumnDef::new(TrainingPlans::OwnerCode).string_len(5).not_null())
                    .col(ColumnDef::new(TrainingPlans::PeriodStart).date().not_null())
                    .col(ColumnDef::new(TrainingPlans::PeriodEnd).date().not_null())
                    .col(ColumnDef::new(TrainingPlans::DocumentNumber).string_len(100).not_null())
                    .col(ColumnDef::new(TrainingPlans::IssuedOn).date().not_null())
                    .col(ColumnDef::new(TrainingPlans::Status).string_len(16).not_null())
                    .col(ColumnDef::new(TrainingPlans::Revision).big_integer().not_null().default(1))
                    .col(ColumnDef::new(TrainingPlans::CreateTime).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(TrainingPlans::UpdateTime).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_training_plans_owner")
                            .from(TrainingPlans::Table, TrainingPlans::OwnerCode)
                            .to(Localities::Table, Localities::Code)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_training_plans_owner")
                    .table(TrainingPlans::Table)
                    .col(TrainingPlans::OwnerCode)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TargetLines::Table)
                    .col(ColumnDef::new(TargetLines::PlanId).big_integer().not_null())
                    .col(ColumnDef::new(TargetLines::LineId).string_len(64).not_null())
                    .col(ColumnDef::new(TargetLines::Position).integer().not_null())
                    .col(ColumnDef::new(TargetLines::Title).string_len(300).not_null())
                    .col(ColumnDef::new(TargetLines::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(TargetLines::ScaleCode).string_len(64).null())
                    .col(ColumnDef::new(TargetLines::LevelCode).string_len(64).null())
                    .col(ColumnDef::new(TargetLines::Topic).string_len(300).null())
                    .col(ColumnDef::new(TargetLines::AudienceTier).string_len(16).null())
                    .col(ColumnDef::new(TargetLines::AudienceCategory).string_len(32).null())
                    .col(ColumnDef::new(TargetLines::LeadersOnly).boolean().not_null())
                    .col(ColumnDef::new(TargetLines::Target).integer().not_null())
                    .col(ColumnDef::new(TargetLines::BudgetVnd).big_integer().null())
                    .primary_key(Index::create().col(TargetLines::PlanId).col(TargetLines::LineId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_target_lines_plan")
                            .from(TargetLines::Table, TargetLines::PlanId)
                            .to(TrainingPlans::Table, TrainingPlans::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_target_lines_level")
                            .from(TargetLines::Table, (TargetLines::ScaleCode, TargetLines::LevelCode))
                            .to(ScaleLevels::Table, (ScaleLevels::ScaleCode, ScaleLevels::Code))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Courses::Table)
                    .col(ColumnDef::new(Courses::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Courses::PlanId).big_integer().not_null())
                    .col(ColumnDef::new(Courses::LineId).string_len(64).not_null())
                    .col(ColumnDef::new(Courses::Title).string_len(300).not_null())
                    .col(ColumnDef::new(Courses::Provider).string_len(300).not_null())
                    .col(ColumnDef::new(Courses::Location).string_len(300).not_null())
                    .col(ColumnDef::new(Courses::StartDate).date().not_null())
                    .col(ColumnDef::new(Courses::EndDate).date().not_null())
                    // JSON array of {start_date, end_date, location}.
                    .col(ColumnDef::new(Courses::Sessions).text().not_null())
                    .col(ColumnDef::new(Courses::Revision).big_integer().not_null().default(1))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_courses_plan")
                            .from(Courses::Table, Courses::PlanId)
                            .to(TrainingPlans::Table, TrainingPlans::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_courses_plan").table(Courses::Table).col(Courses::PlanId).to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Enrollments::Table)
                    .col(ColumnDef::new(Enrollments::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Enrollments::PlanId).big_integer().not_null())
                    .col(ColumnDef::new(Enrollments::PersonId).big_integer().not_null())
                    .col(ColumnDef::new(Enrollments::LineId).string_len(64).not_null())
                    .col(ColumnDef::new(Enrollments::CourseId).big_integer().null())
                    .col(ColumnDef::new(Enrollments::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Enrollments::EnrollmentDate).date().not_null())
                    .col(ColumnDef::new(Enrollments::Grade).string_len(100).null())
                    .col(ColumnDef::new(Enrollments::Distinction).boolean().not_null())
                    .col(ColumnDef::new(Enrollments::QualificationId).big_integer().null())
                    .col(ColumnDef::new(Enrollments::Revision).big_integer().not_null().default(1))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_enrollments_plan")
                            .from(Enrollments::Table, Enrollments::PlanId)
                            .to(TrainingPlans::Table, TrainingPlans::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_enrollments_person")
                            .from(Enrollments::Table, Enrollments::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_enrollments_course")
                            .from(Enrollments::Table, Enrollments::CourseId)
                            .to(Courses::Table, Courses::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_enrollments_qualification")
                            .from(Enrollments::Table, Enrollments::QualificationId)
                            .to(Qualifications::Table, Qualifications::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_enrollments_plan_line")
                    .table(Enrollments::Table)
                    .col(Enrollments::PlanId)
                    .col(Enrollments::LineId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_enrollments_person")
                    .table(Enrollments::Table)
                    .col(Enrollments::PersonId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EnrollmentHistory::Table)
                    .col(ColumnDef::new(EnrollmentHistory::EnrollmentId).big_integer().not_null())
                    .col(ColumnDef::new(EnrollmentHistory::Seq).integer().not_null())
                    .col(ColumnDef::new(EnrollmentHistory::Status).string_len(16).not_null())
                    .col(ColumnDef::new(EnrollmentHistory::Date).date().not_null())
                    .primary_key(Index::create().col(EnrollmentHistory::EnrollmentId).col(EnrollmentHistory::Seq))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_enrollment_history_enrollment")
                            .from(EnrollmentHistory::Table, EnrollmentHistory::EnrollmentId)
                            .to(Enrollments::Table, Enrollments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            EnrollmentHistory::Table.into_iden(),
            Enrollments::Table.into_iden(),
            Courses::Table.into_iden(),
            TargetLines::Table.into_iden(),
            TrainingPlans::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
