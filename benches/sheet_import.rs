//! Spreadsheet import throughput: 100,000 people from an XLSX through the `hrplan`
//! binary (`hrplan import people FILE.xlsx`, the real CLI: a process of its own that
//! reads the workbook, looks the units and levels up, and streams the records), against
//! `ImportPeople` called directly with the equivalent records, on the same server in
//! the same run; prints both rates and their ratio.
//!
//! ```sh
//! cargo bench --bench sheet_import                   # SQLite, 100,000 people
//! HRPLAN_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench sheet_import
//! HRPLAN_BENCH_PEOPLE=20000 HRPLAN_BENCH_ROUNDS=3 cargo bench --bench sheet_import
//! ```
//!
//! The server runs in this process (as in `benches/import.rs`); the CLI is the binary
//! cargo builds for benchmarks (`CARGO_BIN_EXE_hrplan`, the release profile), so its
//! time includes process start, reading the workbook and the lookups. The direct
//! import sends the records the CLI's own parser makes of an equivalent workbook (other
//! people, the same shape), in the same upsert mode, so the two do the same server
//! work. Each round imports a fresh set of people first directly, then through the
//! CLI, so the CLI always writes into the larger database; with several rounds the
//! medians are printed too.

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use chrono::{Datelike as _, NaiveDate};
use hrplan::{
    auth::{KeyConfig, Role, mint_hs256},
    cli::reference,
    config::ServerConfig,
    domain::date::today,
    exchange::{
        people_sheet::{self, Options, Reference},
        sheet,
    },
    grpc::pb::{self, person_service_client::PersonServiceClient, unit_service_client::UnitServiceClient},
    people::rules::{identity::PersonalId, person::Gender},
    startup::Application,
};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use sea_orm::{ConnectionTrait, Database};
use tonic::{metadata::MetadataValue, transport::Channel};

const SECRET: &[u8] = b"hrplan-bench-secret-0123456789abcdef";

const HEADER: [&str; 18] = [
    "STT",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Dân tộc",
    "Số định danh cá nhân",
    "Đối tượng",
    "Đơn vị",
    "Chức vụ",
    "Lãnh đạo",
    "Ngày vào làm",
    "Trình độ chuyên môn",
    "Lý luận chính trị",
    "Quản lý nhà nước",
    "Tin học",
    "Ngoại ngữ",
    "Xếp loại 2023",
    "Xếp loại 2024",
];

/// Units of the benchmark, named unlike any of the demo's (a sheet names units by
/// name, which must be unique in the caller's scope).
const UNITS: [&str; 5] = [
    "Phòng Văn hóa - Xã hội phường Điện Biên Phủ",
    "Phòng Kinh tế, Hạ tầng và Đô thị phường Mường Thanh",
    "Trung tâm Phục vụ hành chính công phường Mường Thanh",
    "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân phường Điện Biên Phủ",
    "Ban Tổ chức Tỉnh ủy Điện Biên",
];

fn date(year: i32, month: i32, day: i32) -> pb::Date {
    pb::Date { year, month, day }
}

fn n32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or_default()
}

/// Writes a personnel list of `people` rows whose numbers start at `serial`: dates
/// alternately as Excel date cells and dd/mm/yyyy text, three qualifications and two
/// ratings per person.
fn write_workbook(path: &Path, people: usize, serial: u32) -> anyhow::Result<()> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    sheet.write_string(0, 0, "DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC")?;
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(2, u16::try_from(c)?, *h)?;
    }
    let professional = ["Đại học", "Thạc sĩ", "Cao đẳng", "Trung cấp"];
    let political = ["Sơ cấp", "Trung cấp", "Cao cấp"];
    let state = ["Chuyên viên", "Chuyên viên chính", "Cán sự"];
    let ratings = ["Hoàn thành tốt nhiệm vụ", "HTXSNV", "Hoàn thành nhiệm vụ"];
    for i in 0..people {
        let row = u32::try_from(i + 3)?;
        let birth = NaiveDate::from_ymd_opt(1965 + n32(i % 30), 1 + (i % 12) as u32, 1 + (i % 28) as u32)
            .ok_or_else(|| anyhow::anyhow!("birth date"))?;
        let female = i % 2 == 1;
        let id = PersonalId::synthetic(
            11,
            birth,
            if female { Gender::Female } else { Gender::Male },
            serial + u32::try_from(i)?,
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        let employed = NaiveDate::from_ymd_opt((birth.year() + 23 + n32(i % 5)).min(2024), 3, 15)
            .ok_or_else(|| anyhow::anyhow!("employment date"))?;
        let mut write_date = |column: u16, d: NaiveDate| -> anyhow::Result<()> {
            if i % 2 == 0 {
                let value = ExcelDateTime::from_ymd(u16::try_from(d.year())?, d.month() as u8, d.day() as u8)?;
                sheet.write_datetime_with_format(row, column, &value, &date_format)?;
            } else {
                sheet.write_string(row, column, d.format("%d/%m/%Y").to_string())?;
            }
            Ok(())
        };
        write_date(2, birth)?;
        write_date(10, employed)?;
        sheet.write_number(row, 0, f64::from(u32::try_from(i + 1)?))?;
        sheet.write_string(row, 1, format!("Nguyễn Văn Thử {serial}-{i}"))?;
        sheet.write_string(row, 3, if female { "Nữ" } else { "Nam" })?;
        sheet.write_string(row, 4, if i % 5 == 0 { "Thái" } else { "Kinh" })?;
        sheet.write_string(row, 5, id.as_str())?;
        sheet.write_string(row, 6, if i % 3 == 0 { "Viên chức" } else { "Công chức" })?;
        sheet.write_string(row, 7, UNITS[i % UNITS.len()])?;
        sheet.write_string(row, 8, if i % 10 == 0 { "Trưởng phòng" } else { "Chuyên viên" })?;
        if i % 10 == 0 {
            sheet.write_string(row, 9, "x")?;
        }
        sheet.write_string(row, 11, professional[i % 4])?;
        sheet.write_string(row, 12, political[i % 3])?;
        sheet.write_string(row, 13, state[i % 3])?;
        sheet.write_string(row, 14, "Ứng dụng công nghệ thông tin cơ bản")?;
        if i % 4 != 0 {
            sheet.write_string(row, 15, "Bậc 3 (B1)")?;
        }
        sheet.write_string(row, 16, ratings[i % 3])?;
        sheet.write_string(row, 17, ratings[(i + 1) % 3])?;
    }
    workbook.save(path)?;
    Ok(())
}

async fn database_url() -> anyhow::Result<(String, &'static str)> {
    if let Ok(admin) = std::env::var("HRPLAN_BENCH_POSTGRES_URL") {
        let name = format!("hrplan_bench_sheet_{}", std::process::id());
        let conn = Database::connect(admin.as_str()).await?;
        conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
        let (base, _) = admin.rsplit_once('/').ok_or_else(|| anyhow::anyhow!("the admin URL names no database"))?;
        return Ok((format!("{base}/{name}"), "PostgreSQL"));
    }
    let path = std::env::temp_dir().join(format!("hrplan_bench_sheet_{}.db", std::process::id()));
    Ok((format!("sqlite://{}?mode=rwc", path.display()), "SQLite"))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        f64::midpoint(values[n / 2 - 1], values[n / 2])
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let people: usize = std::env::var("HRPLAN_BENCH_PEOPLE").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let rounds: usize = std::env::var("HRPLAN_BENCH_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(1);
    let (url, backend) = database_url().await?;
    let mut config = ServerConfig::new(url);
    config.keys = KeyConfig::Hs256(SECRET.to_vec());
    config.demo = true;
    config.request_timeout = Duration::from_secs(900);
    let app = Application::build(config).await?;
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        stopped.await.ok();
    }));

    // An office of Điện Biên: an editor who reads personal data (upsert matches people
    // by their number), scoped to province 11.
    let token = mint_hs256(
        SECRET,
        "bench",
        &["11".to_owned()],
        &[Role::Editor, Role::PersonalDataReader],
        Duration::from_secs(7200),
    )?;
    let admin = mint_hs256(SECRET, "bench-admin", &["*".to_owned()], &[Role::Admin], Duration::from_secs(7200))?;
    let channel = Channel::from_shared(format!("http://{addr}"))?.connect().await?;
    let header = |t: &str| -> anyhow::Result<MetadataValue<_>> { Ok(format!("Bearer {t}").parse()?) };
    let admin_header = header(&admin)?;
    let mut units = UnitServiceClient::with_interceptor(channel.clone(), move |mut r: tonic::Request<()>| {
        r.metadata_mut().insert("authorization", admin_header.clone());
        Ok(r)
    });
    for (i, name) in UNITS.iter().enumerate() {
        let locality =
            ["localities/03127", "localities/03334", "localities/03334", "localities/03127", "localities/11"][i];
        units
            .create_unit(pb::CreateUnitRequest {
                unit: Some(pb::Unit {
                    display_name: (*name).into(),
                    locality: locality.into(),
                    sector: pb::Sector::StateAdministration.into(),
                    kind: pb::UnitKind::PeoplesCommittee.into(),
                    valid_from: Some(date(2020, 1, 1)),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await?;
    }

    let client_args = hrplan::cli::client::ClientArgs {
        server: format!("http://{addr}"),
        token: Some(token.clone()),
        call_timeout_seconds: 900,
    };
    let auth = client_args.connect().await?;
    let day = today();
    let roots = reference::roots(&auth, &client_args, &[], day).await?;
    let lookup = Reference::new(
        &reference::scales(&auth).await?,
        &reference::units(&auth, &roots, day).await?,
        &reference::localities(&auth, &roots, day).await?,
    );
    let dir = std::env::temp_dir().join(format!("hrplan_bench_sheets_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut direct_rates = Vec::new();
    let mut cli_rates = Vec::new();
    let token_header = header(&token)?;
    for round in 0..rounds {
        let base = u32::try_from(round * 2 * people)? + 1;
        // Direct: the records the CLI's parser makes of an equivalent workbook.
        let direct_file = dir.join(format!("direct-{round}.xlsx"));
        write_workbook(&direct_file, people, base)?;
        let grid = sheet::read(&direct_file, None, &mut |_, _| {})?;
        let parsed = people_sheet::parse_people(&grid, &lookup, &Options::default())?;
        anyhow::ensure!(parsed.problems.is_empty(), "the bench workbook has problems: {:?}", parsed.problems.first());
        let requests: Vec<pb::ImportPeopleRequest> = parsed
            .records
            .into_iter()
            .enumerate()
            .map(|(i, r)| pb::ImportPeopleRequest {
                record: Some(r.record),
                mode: if i == 0 { pb::ImportMode::Upsert.into() } else { pb::ImportMode::Unspecified.into() },
                validate_only: false,
            })
            .collect();
        let with_token = token_header.clone();
        let mut client = PersonServiceClient::with_interceptor(channel.clone(), move |mut r: tonic::Request<()>| {
            r.metadata_mut().insert("authorization", with_token.clone());
            Ok(r)
        })
        .max_decoding_message_size(64 * 1024 * 1024);
        let started = Instant::now();
        let answer = client.import_people(tokio_stream::iter(requests)).await?.into_inner();
        let direct = started.elapsed();
        anyhow::ensure!(
            usize::try_from(answer.created_count)? == people,
            "direct: created {} of {people}; first rejection {:?}",
            answer.created_count,
            answer.rejected.first()
        );

        // Through the CLI: another set of people, the real binary.
        let cli_file = dir.join(format!("cli-{round}.xlsx"));
        write_workbook(&cli_file, people, base + u32::try_from(people)?)?;
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_hrplan"))
            .args(["import", "people"])
            .arg(&cli_file)
            .env("HRPLAN_SERVER", format!("http://{addr}"))
            .env("HRPLAN_TOKEN", &token)
            .output()?;
        let through_cli = started.elapsed();
        let stdout = String::from_utf8_lossy(&output.stdout);
        anyhow::ensure!(
            output.status.success(),
            "hrplan import people failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        #[expect(clippy::cast_precision_loss, reason = "a rate")]
        let (direct_rate, cli_rate) = (people as f64 / direct.as_secs_f64(), people as f64 / through_cli.as_secs_f64());
        println!(
            "sheet_import {backend} round {}: direct ImportPeople {people} people in {:.2} s = {direct_rate:.0} people/s; \
             hrplan import people (XLSX, {:.1} MB) in {:.2} s = {cli_rate:.0} people/s; CLI/direct = {:.0} %",
            round + 1,
            direct.as_secs_f64(),
            std::fs::metadata(&cli_file)?.len() as f64 / 1e6,
            through_cli.as_secs_f64(),
            100.0 * cli_rate / direct_rate
        );
        println!("  the CLI said: {}", stdout.trim());
        for line in String::from_utf8_lossy(&output.stderr).lines() {
            println!("  {line}");
        }
        direct_rates.push(direct_rate);
        cli_rates.push(cli_rate);
        std::fs::remove_file(&direct_file).ok();
        std::fs::remove_file(&cli_file).ok();
    }
    if rounds > 1 {
        let (direct, cli) = (median(&mut direct_rates), median(&mut cli_rates));
        println!(
            "sheet_import {backend} medians over {rounds} rounds: direct {direct:.0} people/s, CLI {cli:.0} people/s, CLI/direct = {:.0} %",
            100.0 * cli / direct
        );
    }
    std::fs::remove_dir_all(&dir).ok();
    stop.send(()).ok();
    server.await??;
    Ok(())
}
