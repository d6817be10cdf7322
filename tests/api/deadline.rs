//! Deadlines: a call whose deadline has passed does no write.

use std::time::Duration;

use hrplan::grpc::pb::{LocalityKind as K, LocalityTier as T};
use tonic::Code;

use crate::helpers::{create_request, spawn_app};

#[tokio::test]
async fn a_create_whose_deadline_has_passed_writes_nothing() {
    let app = spawn_app().await;
    let mut client = app.as_admin().localities();
    let before = app.snapshot().await;

    let mut request = tonic::Request::new(create_request("11", T::Province, "Tỉnh Điện Biên", K::Province, ""));
    request.set_timeout(Duration::from_nanos(1));
    let status = client.create_locality(request).await.expect_err("the deadline has passed");

    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
        "expected DEADLINE_EXCEEDED, got {status:?}"
    );
    assert_eq!(app.snapshot().await, before);
    // The same request with time to spare succeeds, so the refusal was the deadline's.
    let mut request = tonic::Request::new(create_request("11", T::Province, "Tỉnh Điện Biên", K::Province, ""));
    request.set_timeout(Duration::from_secs(30));
    client.create_locality(request).await.expect("create within the deadline");
}
