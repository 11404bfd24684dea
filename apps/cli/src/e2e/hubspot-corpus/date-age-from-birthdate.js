// Age in whole years from the date of birth, as of a reference date.
exports.main = async (event, callback) => {
  const dob = new Date(event.inputFields.date_of_birth + 'T00:00:00Z');
  const today = new Date(event.inputFields.as_of + 'T00:00:00Z');
  let age = today.getUTCFullYear() - dob.getUTCFullYear();
  const beforeBirthday = today.getUTCMonth() < dob.getUTCMonth() || (today.getUTCMonth() === dob.getUTCMonth() && today.getUTCDate() < dob.getUTCDate());
  if (beforeBirthday) age -= 1;
  callback({ outputFields: { age, is_adult: age >= 18 } });
};
