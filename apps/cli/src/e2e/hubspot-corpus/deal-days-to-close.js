// Days between the deal's create date and close date, and whether it closed within the quarter target.
exports.main = async (event, callback) => {
  const created = new Date(event.inputFields.createdate);
  const closed = new Date(event.inputFields.closedate);
  if (isNaN(created) || isNaN(closed)) {
    callback({ outputFields: { days_to_close: -1, within_target: false } });
    return;
  }
  const days = Math.round((closed - created) / (1000 * 60 * 60 * 24));
  callback({ outputFields: { days_to_close: days, within_target: days <= 90 } });
};
