//! The people of the national dataset, generated deterministically from a seed in
//! batches that are loaded while the next is generated.
//!
//! Each person belongs to a province from 2025-07-01 (chosen in proportion to its
//! communes), and then either to a commune (45 %: its committee, schools or health
//! station, a few hundred people per commune) or to a provincial agency (55 %). Their
//! history before 2025-07-01 is on the old tree: in a commune or district the new
//! commune comes from, or in the agency of an old province the new one comes from;
//! that placement ends on 2025-07-01 and the next begins in the new unit. Some moved
//! on 2023-01-01 (a movement record says so), some retired or left on 2023-07-01, a
//! few were hired after the reorganisation. Everybody has three qualifications
//! (professional, political theory, state management; the last two awarded during
//! the career, so the facts change while placed), ratings for 2021–2024, and some are
//! enrolled in their province's or commune's training plan with a status history.

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate};
use hrplan::domain::text::fold;

use crate::{
    load::{Format, Rows},
    tree::{NEW_COMMUNE_UNITS, PROVINCE_UNITS, Tree, UnitRole},
};

/// People per batch (one transaction each).
pub const BATCH: usize = 25_000;

/// The four categories, as stored, in the order quotas are counted.
pub const CATEGORIES: [&str; 4] = ["cadre", "civil_servant", "public_employee", "part_time_worker"];

/// The year the quotas are set for.
pub const QUOTA_YEAR: i32 = 2025;

/// A deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (never zero inside).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        usize::try_from(self.next() % n as u64).unwrap_or_default()
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// An item of `items` picked by weight.
    pub fn pick<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut roll = self.next() % total.max(1);
        for (item, weight) in items {
            if roll < u64::from(*weight) {
                return item;
            }
            roll -= u64::from(*weight);
        }
        &items[items.len() - 1].0
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn plus_days(date: NaiveDate, n: u64) -> NaiveDate {
    date.checked_add_days(Days::new(n)).unwrap_or(date)
}

/// The columns of each table the people batches write, in load order.
pub const PEOPLE: &str = "people (id, full_name, name_folded, birth_date, gender, ethnicity, category, employed_from, \
    employed_until, end_reason, revision, create_time, update_time)";
const PLACEMENTS: &str = "placements (id, person_id, unit_id, post_title, post_title_folded, is_leader, \
    is_key_post, valid_from, valid_until, revision)";
const QUALIFICATIONS: &str =
    "qualifications (id, person_id, scale_code, level_code, field_of_study, institution, awarded_on, revision)";
const EVALUATIONS: &str = "evaluations (person_id, year, rating, revision)";
const ENROLLMENTS: &str = "enrollments (id, plan_id, person_id, line_id, course_id, status, enrollment_date, grade, \
    distinction, qualification_id, revision)";
const HISTORY: &str = "enrollment_history (enrollment_id, seq, status, date)";
const ROTATIONS: &str = "rotations (id, person_id, kind, source_unit_id, source_post, destination_unit_id, \
    destination_post, destination_leader, start_date, planned_end_date, actual_end_date, decision_number, decided_on, \
    issuing_body, programme, status, outcome_rating, promoted, post_after_return, revision, create_time, update_time)";
const PENDING: &str = "person_facts_pending (person_id)";
const PLANS: &str = "training_plans (id, title, owner_code, period_start, period_end, document_number, issued_on, \
    status, revision, create_time, update_time)";
const LINES: &str = "target_lines (plan_id, line_id, position, title, kind, scale_code, level_code, topic, \
    audience_tier, audience_category, leaders_only, target, budget_vnd)";
const QUOTAS: &str = "staffing_quotas (id, unit_id, locality_code, year, category, quota, revision)";

/// The lines of every plan: two degrees and a refresher course.
const LINE_IDS: [&str; 3] = ["political_advanced", "state_management", "refresher"];

const SURNAMES: [(&str, u32); 10] = [
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Vũ", 4),
    ("Đặng", 3),
    ("Bùi", 3),
    ("Đỗ", 3),
    ("Lò", 1),
];
const MIDDLE_MALE: [&str; 4] = ["Văn", "Đức", "Minh", "Quang"];
const MIDDLE_FEMALE: [&str; 4] = ["Thị", "Thu", "Ngọc", "Thanh"];
const GIVEN: [&str; 12] = ["An", "Bình", "Cường", "Dung", "Hà", "Hải", "Hương", "Lan", "Long", "Mai", "Nam", "Tuấn"];
const ETHNICITIES: [(&str, u32); 7] =
    [("Kinh", 85), ("Tày", 3), ("Thái", 3), ("Mường", 2), ("Khmer", 2), ("H'Mông", 2), ("Nùng", 3)];
const PROFESSIONAL: [(&str, u32); 6] =
    [("doctorate", 1), ("master", 12), ("university", 70), ("college", 6), ("intermediate", 9), ("untrained", 2)];
const POLITICAL: [(&str, u32); 4] = [("advanced", 8), ("intermediate", 35), ("elementary", 40), ("none", 17)];
const MANAGEMENT: [(&str, u32); 4] = [("principal_specialist", 10), ("specialist", 50), ("officer", 10), ("none", 30)];
const RATINGS: [(&str, u32); 4] = [("excellent", 10), ("good", 65), ("completed", 22), ("not_completed", 3)];

/// Everything one batch writes, in load order.
#[derive(Debug)]
pub struct Batch {
    /// The tables' rows.
    pub tables: Vec<Rows>,
    /// People in the batch.
    pub people: usize,
}

/// What the whole dataset counted, for the summary.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    /// People.
    pub people: usize,
    /// Placements.
    pub placements: usize,
    /// Qualifications.
    pub qualifications: usize,
    /// Evaluations.
    pub evaluations: usize,
    /// Enrolments.
    pub enrollments: usize,
    /// Movements.
    pub rotations: usize,
    /// Quotas.
    pub quotas: usize,
}

/// The generator: call [`Generator::plans`] first, then [`Generator::next_batch`]
/// until it returns `None`, then [`Generator::quotas`].
#[derive(Debug)]
pub struct Generator {
    tree: Tree,
    format: Format,
    mark_pending: bool,
    rng: Rng,
    total: usize,
    done: usize,
    stamp: String,
    province_weights: Vec<(usize, u32)>,
    next_person: i64,
    next_placement: i64,
    next_qualification: i64,
    next_enrollment: i64,
    next_rotation: i64,
    /// Headcount on 2025-12-31 per unit and per new locality, by category.
    unit_headcount: HashMap<i64, [u32; 4]>,
    locality_headcount: HashMap<String, [u32; 4]>,
    /// The counts so far.
    pub counts: Counts,
}

/// Where ids start: one past the largest of each table.
#[derive(Debug, Clone, Copy)]
pub struct FirstIds {
    /// `people`.
    pub person: i64,
    /// `placements`.
    pub placement: i64,
    /// `qualifications`.
    pub qualification: i64,
    /// `enrollments`.
    pub enrollment: i64,
    /// `rotations`.
    pub rotation: i64,
}

/// One placement being planned.
struct Stint {
    unit: i64,
    from: NaiveDate,
    until: Option<NaiveDate>,
}

impl Generator {
    /// A generator of `total` people on `tree`.
    pub fn new(
        tree: Tree,
        format: Format,
        mark_pending: bool,
        seed: u64,
        total: usize,
        ids: FirstIds,
        stamp: String,
    ) -> Self {
        // A province's workforce in proportion to its communes, at least one share.
        let province_weights = tree
            .provinces
            .iter()
            .enumerate()
            .map(|(i, p)| (i, u32::try_from(p.communes.len().max(1)).unwrap_or(1)))
            .collect();
        Self {
            tree,
            format,
            mark_pending,
            rng: Rng::new(seed),
            total,
            done: 0,
            stamp,
            province_weights,
            next_person: ids.person,
            next_placement: ids.placement,
            next_qualification: ids.qualification,
            next_enrollment: ids.enrollment,
            next_rotation: ids.rotation,
            unit_headcount: HashMap::new(),
            locality_headcount: HashMap::new(),
            counts: Counts::default(),
        }
    }

    /// The tree's unit rows, and a training plan per province (2021–2025) and per
    /// commune (from 2025-07-01), each with three lines. Plan ids: provinces first.
    pub fn plans(&mut self) -> Batch {
        let mut units = Rows::new(crate::tree::UNITS, self.format);
        std::mem::swap(&mut units, &mut self.tree.unit_rows);
        let mut plans = Rows::new(PLANS, self.format);
        let mut lines = Rows::new(LINES, self.format);
        let owners = self
            .tree
            .provinces
            .iter()
            .map(|p| (p.code.as_str(), true))
            .chain(self.tree.communes.iter().map(|c| (c.code.as_str(), false)));
        for (n, (owner, province)) in owners.enumerate() {
            let id = i64::try_from(n).unwrap_or_default() + 1;
            let (start, end) =
                if province { (day(2021, 1, 1), day(2025, 12, 31)) } else { (day(2025, 7, 1), day(2030, 12, 31)) };
            plans
                .int(id)
                .text(&format!("Kế hoạch đào tạo, bồi dưỡng cán bộ, công chức, viên chức {owner}"))
                .text(owner)
                .date(start)
                .date(end)
                .text(&format!("{id}/KH-UBND"))
                .date(start)
                .text("approved")
                .int(1)
                .text(&self.stamp)
                .text(&self.stamp);
            plans.end();
            let target = if province { 3_000 } else { 30 };
            for (position, line) in LINE_IDS.iter().enumerate() {
                lines.int(id).text(line).int(i64::try_from(position).unwrap_or_default());
                match *line {
                    "political_advanced" => lines
                        .text("Cao cấp lý luận chính trị")
                        .text("degree")
                        .text("political_theory")
                        .text("advanced")
                        .null(),
                    "state_management" => lines
                        .text("Chuyên viên quản lý nhà nước")
                        .text("degree")
                        .text("state_management")
                        .text("specialist")
                        .null(),
                    _ => lines
                        .text("Bồi dưỡng kiến thức quản lý nhà nước")
                        .text("refresher")
                        .null()
                        .null()
                        .text("Bồi dưỡng kiến thức quản lý nhà nước"),
                };
                lines.null().null().boolean(false).int(target).null();
                lines.end();
            }
        }
        Batch { tables: vec![units, plans, lines], people: 0 }
    }

    /// The next batch of people, or `None` when all are generated.
    pub fn next_batch(&mut self) -> Option<Batch> {
        if self.done >= self.total {
            return None;
        }
        let n = BATCH.min(self.total - self.done);
        let f = self.format;
        let mut b = PersonRows {
            people: Rows::new(PEOPLE, f),
            placements: Rows::new(PLACEMENTS, f),
            qualifications: Rows::new(QUALIFICATIONS, f),
            evaluations: Rows::new(EVALUATIONS, f),
            enrollments: Rows::new(ENROLLMENTS, f),
            history: Rows::new(HISTORY, f),
            rotations: Rows::new(ROTATIONS, f),
            pending: Rows::new(PENDING, f),
        };
        for _ in 0..n {
            self.person(&mut b);
        }
        self.done += n;
        self.counts.people += b.people.count;
        self.counts.placements += b.placements.count;
        self.counts.qualifications += b.qualifications.count;
        self.counts.evaluations += b.evaluations.count;
        self.counts.enrollments += b.enrollments.count;
        self.counts.rotations += b.rotations.count;
        let PersonRows { people, placements, qualifications, evaluations, enrollments, history, rotations, pending } =
            b;
        Some(Batch {
            tables: vec![people, placements, qualifications, evaluations, enrollments, history, rotations, pending],
            people: n,
        })
    }

    /// Quotas for 2025 per unit and per new province and commune and category: the
    /// headcount on 2025-12-31 and a few percent more, so that most are under quota.
    pub fn quotas(&mut self) -> Batch {
        let mut rows = Rows::new(QUOTAS, self.format);
        let mut id = 1i64;
        let mut units: Vec<_> = self.unit_headcount.iter().map(|(k, v)| (*k, *v)).collect();
        units.sort_unstable();
        let mut localities: Vec<_> = self.locality_headcount.iter().map(|(k, v)| (k.clone(), *v)).collect();
        localities.sort_unstable();
        for (unit, counts) in units {
            for (category, count) in CATEGORIES.iter().zip(counts).filter(|(_, c)| *c > 0) {
                let quota =
                    i64::from(count) + i64::from(count) / 20 + i64::try_from(self.rng.below(3)).unwrap_or_default();
                rows.int(id).int(unit).null().int(i64::from(QUOTA_YEAR)).text(category).int(quota).int(1);
                rows.end();
                id += 1;
            }
        }
        for (code, counts) in localities {
            for (category, count) in CATEGORIES.iter().zip(counts).filter(|(_, c)| *c > 0) {
                let quota = i64::from(count) + i64::from(count) / 10;
                rows.int(id).null().text(&code).int(i64::from(QUOTA_YEAR)).text(category).int(quota).int(1);
                rows.end();
                id += 1;
            }
        }
        self.counts.quotas = rows.count;
        Batch { tables: vec![rows], people: 0 }
    }

    fn person(&mut self, b: &mut PersonRows) {
        let rng = &mut self.rng;
        let tree = &self.tree;
        let province_index = *rng.pick(&self.province_weights);
        let province = &tree.provinces[province_index];
        let commune_level = !province.communes.is_empty() && rng.chance(45);

        // The unit from 2025-07-01, and the one before it on the old tree (if any).
        let (role, current, locality, before, mover_source): (UnitRole, i64, String, Option<i64>, Option<i64>);
        let mut commune_index = None;
        if commune_level {
            let index = province.communes[rng.below(province.communes.len())];
            commune_index = Some(index);
            let commune = &tree.communes[index];
            let weights: Vec<(usize, u32)> = NEW_COMMUNE_UNITS.iter().enumerate().map(|(i, s)| (i, s.weight)).collect();
            let kind = *rng.pick(&weights);
            role = NEW_COMMUNE_UNITS[kind].role;
            current = commune.units[kind];
            locality = commune.code.clone();
            let old = (!commune.predecessors.is_empty())
                .then(|| &tree.old_communes[commune.predecessors[rng.below(commune.predecessors.len())]]);
            before = old.map(|o| {
                let district = &tree.districts[o.district];
                match role {
                    UnitRole::School => o.units[1],
                    UnitRole::Health => district.units[1],
                    _ if rng.chance(40) => district.units[0],
                    _ => o.units[0],
                }
            });
            // Moved from the committee of another commune of the same district.
            mover_source = old.and_then(|o| {
                let district = &tree.districts[o.district];
                let other = &tree.old_communes[district.communes[rng.below(district.communes.len())]];
                (other.units[0] != before.unwrap_or_default()).then_some(other.units[0])
            });
        } else {
            let weights: Vec<(usize, u32)> = PROVINCE_UNITS.iter().enumerate().map(|(i, s)| (i, s.weight)).collect();
            let kind = *rng.pick(&weights);
            role = PROVINCE_UNITS[kind].role;
            current = province.units[kind];
            locality = province.code.clone();
            let old = (!province.predecessors.is_empty())
                .then(|| &tree.old_provinces[province.predecessors[rng.below(province.predecessors.len())]]);
            before = old.map(|o| {
                if !o.districts.is_empty() && rng.chance(10) {
                    let district = &tree.districts[o.districts[rng.below(o.districts.len())]];
                    match role {
                        UnitRole::School => district.units[2],
                        UnitRole::Health => district.units[1],
                        _ => district.units[0],
                    }
                } else {
                    o.units[kind]
                }
            });
            mover_source = old.map(|o| o.units[rng.below(o.units.len())]).filter(|u| Some(*u) != before);
        }

        let female = rng.chance(if role == UnitRole::School { 70 } else { 45 });
        let born = day(
            1965 + i32::try_from(rng.below(38)).unwrap_or_default(),
            1 + u32::try_from(rng.below(12)).unwrap_or_default(),
            1 + u32::try_from(rng.below(28)).unwrap_or_default(),
        );
        let employed_from = day(born.year() + 22 + i32::try_from(rng.below(4)).unwrap_or_default(), 1, 1);
        let category = match role {
            UnitRole::School | UnitRole::Health => {
                if rng.chance(95) {
                    "public_employee"
                } else {
                    "civil_servant"
                }
            }
            UnitRole::Political => {
                if rng.chance(60) {
                    "cadre"
                } else {
                    "civil_servant"
                }
            }
            UnitRole::Administration => match rng.below(10) {
                0 | 1 => "cadre",
                2 if commune_level => "part_time_worker",
                _ => "civil_servant",
            },
        };
        let leader = rng.chance(9);
        let key_post = rng.chance(3);
        let post = match (leader, role) {
            (true, UnitRole::School) => "Hiệu phó",
            (true, UnitRole::Health) => "Phó Giám đốc",
            (true, _) => "Phó Trưởng phòng",
            (false, UnitRole::School) => "Giáo viên",
            (false, UnitRole::Health) => "Bác sĩ",
            (false, UnitRole::Political) => "Chuyên viên",
            (false, UnitRole::Administration) => "Công chức",
        };

        // The career: before the reorganisation (from 2020-01-01, when the old tree's
        // versions begin, or from being hired), then from 2025-07-01.
        let old_start = day(2020, 1, 1);
        let reorganised = day(2025, 7, 1);
        // Hired after the reorganisation: the young, a few others, and everybody of a
        // new locality that comes from none.
        let hired_after = before.is_none() || employed_from >= reorganised || rng.chance(3);
        let employed_from = if hired_after { plus_days(day(2025, 8, 1), rng.next() % 120) } else { employed_from };
        let start = employed_from.max(old_start);
        let mut stints = Vec::with_capacity(3);
        let mut left = false;
        let mut moved = None;
        match before {
            Some(old_unit) if !hired_after => {
                left = start < day(2023, 6, 1) && rng.chance(5);
                let end_before = if left { day(2023, 7, 1) } else { reorganised };
                let move_on = day(2023, 1, 1);
                if !left
                    && start < move_on
                    && rng.chance(8)
                    && let Some(source) = mover_source
                {
                    stints.push(Stint { unit: source, from: start, until: Some(move_on) });
                    stints.push(Stint { unit: old_unit, from: move_on, until: Some(end_before) });
                    moved = Some((source, old_unit));
                } else {
                    stints.push(Stint { unit: old_unit, from: start, until: Some(end_before) });
                }
                if !left {
                    if old_unit == current {
                        // A continuing agency: one placement across the reorganisation.
                        if let Some(last) = stints.last_mut() {
                            last.until = None;
                        }
                    } else {
                        stints.push(Stint { unit: current, from: reorganised, until: None });
                    }
                }
            }
            _ => stints.push(Stint { unit: current, from: start, until: None }),
        }

        let person_id = self.next_person;
        self.next_person += 1;
        let surname = rng.pick(&SURNAMES);
        let middle = if female { MIDDLE_FEMALE[rng.below(4)] } else { MIDDLE_MALE[rng.below(4)] };
        let name = format!("{surname} {middle} {}", GIVEN[rng.below(GIVEN.len())]);
        let ethnicity = rng.pick(&ETHNICITIES);
        let end_reason = left.then(|| if born.year() <= 1967 { "retired" } else { "left" });
        b.people
            .int(person_id)
            .text(&name)
            .text(&fold(&name))
            .date(born)
            .text(if female { "female" } else { "male" })
            .text(ethnicity)
            .text(category)
            .date(employed_from)
            .opt_date(left.then(|| day(2023, 7, 1)))
            .opt_text(end_reason)
            .int(1)
            .text(&self.stamp)
            .text(&self.stamp);
        b.people.end();
        if self.mark_pending {
            b.pending.int(person_id);
            b.pending.end();
        }
        let folded_post = fold(post);
        for stint in &stints {
            b.placements
                .int(self.next_placement)
                .int(person_id)
                .int(stint.unit)
                .text(post)
                .text(&folded_post)
                .boolean(leader)
                .boolean(key_post)
                .date(stint.from)
                .opt_date(stint.until)
                .int(1);
            b.placements.end();
            self.next_placement += 1;
        }
        if !left {
            let counts = self.unit_headcount.entry(current).or_default();
            let c = CATEGORIES.iter().position(|c| *c == category).unwrap_or_default();
            counts[c] += 1;
            self.locality_headcount.entry(locality.clone()).or_default()[c] += 1;
            if commune_level {
                self.locality_headcount.entry(province.code.clone()).or_default()[c] += 1;
            }
        }

        // Qualifications: the degree before being hired; political theory and state
        // management during the career.
        let career_end = if left { day(2023, 6, 30) } else { day(2025, 12, 31) };
        let span = u64::try_from((career_end - employed_from).num_days().max(1)).unwrap_or(1);
        let professional = *rng.pick(&PROFESSIONAL);
        let political = *rng.pick(&POLITICAL);
        let management = *rng.pick(&MANAGEMENT);
        let political_on = plus_days(employed_from, rng.next() % span);
        let management_on = plus_days(employed_from, rng.next() % span);
        for (scale, level, on) in [
            ("professional", professional, day(born.year() + 21, 6, 30)),
            ("political_theory", political, political_on),
            ("state_management", management, management_on),
        ] {
            b.qualifications
                .int(self.next_qualification)
                .int(person_id)
                .text(scale)
                .text(level)
                .text("")
                .text("")
                .date(on)
                .int(1);
            b.qualifications.end();
            self.next_qualification += 1;
        }
        for year in 2021..=2024 {
            if year < employed_from.year() || (left && year > 2022) {
                continue;
            }
            let rating = *rng.pick(&RATINGS);
            b.evaluations.int(person_id).int(i64::from(year)).text(rating).int(1);
            b.evaluations.end();
        }

        // Training: a fifth of the provincial staff in the province's plan (2021–2024
        // starts, a year each); an eighth of the communes' staff in their commune's
        // plan since the reorganisation.
        if !left {
            let plan = if let Some(index) = commune_index {
                rng.chance(12).then_some(self.tree.provinces.len() + index)
            } else {
                rng.chance(20).then_some(province_index)
            };
            if let Some(plan) = plan {
                let id = self.next_enrollment;
                self.next_enrollment += 1;
                let line = LINE_IDS[rng.below(3)];
                let (started, outcome) = if commune_level {
                    let started = plus_days(reorganised, rng.next() % 180).max(employed_from);
                    let outcome = match rng.below(20) {
                        0 => Some(("dropped", plus_days(started, 30))),
                        1..=3 => Some(("completed", plus_days(started, 90))).filter(|(_, e)| *e <= career_end),
                        _ => None,
                    };
                    (started, outcome)
                } else {
                    let started = day(
                        2021 + i32::try_from(rng.below(4)).unwrap_or_default(),
                        1 + u32::try_from(rng.below(12)).unwrap_or_default(),
                        1 + u32::try_from(rng.below(28)).unwrap_or_default(),
                    )
                    .max(employed_from);
                    let ended = started.with_year(started.year() + 1).unwrap_or(started);
                    let outcome = match rng.below(10) {
                        0 => Some(("dropped", plus_days(started, 60))),
                        _ if ended <= day(2025, 6, 30) => Some(("completed", ended)),
                        _ => None,
                    };
                    (started, outcome)
                };
                b.enrollments
                    .int(id)
                    .int(i64::try_from(plan).unwrap_or_default() + 1)
                    .int(person_id)
                    .text(line)
                    .null()
                    .text(outcome.map_or("enrolled", |(s, _)| s))
                    .date(started)
                    .null()
                    .boolean(false)
                    .null()
                    .int(1);
                b.enrollments.end();
                b.history.int(id).int(1).text("enrolled").date(started);
                b.history.end();
                if let Some((status, on)) = outcome {
                    b.history.int(id).int(2).text(status).date(on);
                    b.history.end();
                }
            }
        }

        // The movement of those moved on 2023-01-01: a third transfers (completed),
        // the rest rotations still under way.
        if let Some((source, destination)) = moved {
            let n = self.next_rotation;
            self.next_rotation += 1;
            let transfer = n % 3 == 0;
            b.rotations
                .int(n)
                .int(person_id)
                .text(if transfer { "transfer" } else { "rotation" })
                .int(source)
                .text(post)
                .int(destination)
                .text(post)
                .boolean(false)
                .date(day(2023, 1, 1))
                .opt_date((!transfer).then(|| day(2026, 1, 1)))
                .opt_date(transfer.then(|| day(2023, 1, 1)))
                .text(&format!("{n}/QĐ-UBND"))
                .date(day(2022, 12, 1))
                .text("Ủy ban nhân dân tỉnh")
                .text("")
                .text(if transfer { "completed" } else { "active" })
                .null()
                .boolean(transfer && n % 5 == 0)
                .null()
                .int(1)
                .text(&self.stamp)
                .text(&self.stamp);
            b.rotations.end();
        }
    }
}

struct PersonRows {
    people: Rows,
    placements: Rows,
    qualifications: Rows,
    evaluations: Rows,
    enrollments: Rows,
    history: Rows,
    rotations: Rows,
    pending: Rows,
}
